//! Transactions and dialogs.
