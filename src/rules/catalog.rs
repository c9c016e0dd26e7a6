//! The rule catalog: every finding sipxfer can report, with a stable code, a default
//! severity, the RFC section it rests on, and the text `sipxfer explain CODE` prints.
//!
//! Codes never change meaning and are never reused. A rule is data here plus a small
//! check in `rules::check`.

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Rule {
    /// Stable code, e.g. `X301`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `refer-accepted-no-notify`.
    pub name: &'static str,
    pub severity: Severity,
    /// The RFC and section, e.g. `RFC 3515 §2.4.4`.
    pub rfc: &'static str,
    /// One line: what is wrong, in the user's terms.
    pub summary: &'static str,
    /// What the RFC requires (our words, with the requirement level: MUST, SHOULD).
    pub requirement: &'static str,
    /// The usual cause in real products.
    pub causes: &'static str,
    /// How to fix it or work around it.
    pub fix: &'static str,
}

/// Every rule, in code order.
///
/// Codes group by subject: `X1xx` the REFER request, `X2xx` Replaces, `X3xx` the
/// refer subscription and its NOTIFYs (and dialog sequencing), `X4xx` Referred-By,
/// `X5xx` the call flow around a transfer, `X6xx` message framing, `X7xx` policy.
///
/// The severity starts from the level the cited text sets (a broken MUST is an
/// `error`, a SHOULD a `warning`) and is one step lower where we could not read the
/// exact wording of the section, or where a capture shows legal cases that look the
/// same (a URI with no user part, a retransmission crossing its response); the
/// `requirement` text says which.
pub static RULES: &[Rule] = &[
    Rule {
        code: "X101",
        name: "refer-to-missing",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.4.1, §2.4.2",
        summary: "REFER has no Refer-To header, so the transferee has nowhere to call",
        requirement: "A REFER MUST carry exactly one Refer-To value (§2.4.1), and its \
            receiver MUST answer 400 Bad Request when there is none (§2.4.2).",
        causes: "REFERs built by hand in PBX dialplans, proxy scripts or B2BUAs that \
            drop the header while rewriting the request.",
        fix: "Make the transferor (or the B2BUA that relays its REFER) send exactly one \
            Refer-To naming the transfer target.",
    },
    Rule {
        code: "X102",
        name: "refer-to-multiple",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.4.1, §2.4.2",
        summary: "REFER carries more than one Refer-To value",
        requirement: "A REFER MUST carry exactly one Refer-To value (§2.4.1); a receiver \
            MUST answer 400 Bad Request to a REFER with more than one (§2.4.2).",
        causes: "B2BUAs and header-manipulation rules that add their own Refer-To \
            without removing the one they received.",
        fix: "Send a single Refer-To; in a relaying B2BUA, replace the header instead of \
            appending to it.",
    },
    Rule {
        code: "X103",
        name: "refer-to-invalid-uri",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.1; RFC 3261 §25.1",
        summary: "Refer-To value is not a valid URI, so the transferee cannot call it",
        requirement: "The Refer-To value MUST be a name-addr or addr-spec as the ABNF of \
            RFC 3515 §2.1 defines it, with the URI grammar of RFC 3261 §25.1; a URI with \
            parameters or headers has to be inside angle brackets.",
        causes: "An embedded `?Replaces=` whose `;`, `=` and `@` are not percent-encoded, \
            URIs with parameters sent without angle brackets, or stray spaces and \
            quotes from string-built headers.",
        fix: "Enclose the URI in `<...>` and percent-encode the header part (Replaces) of \
            the Refer-To URI; check the transferor's or B2BUA's Refer-To template.",
    },
    Rule {
        code: "X104",
        name: "refer-to-empty-user",
        severity: Severity::Warning,
        rfc: "RFC 3261 §19.1.1",
        summary: "Refer-To URI has an empty user part (\"Refer-To user is null\")",
        requirement: "If a SIP URI contains `@`, its user part MUST NOT be empty (RFC 3261 \
            §19.1.1). A URI with no user part at all is legal, but many transferees can \
            only route a transfer by its user part (a number).",
        causes: "Transferors that build `sip:@host` from an empty dial string; Microsoft \
            Teams Direct Routing documents Refer-To URIs that name a Teams user with \
            x-m/x-t parameters and no user part, which some SBCs and PBXs cannot route.",
        fix: "Put the target number or user in the Refer-To URI, or configure the \
            transferee/SBC to route Refer-To URIs by their parameters.",
    },
    Rule {
        code: "X105",
        name: "refer-in-early-dialog",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2; RFC 3261 §15",
        summary: "REFER sent in an early dialog, before the call was answered",
        requirement: "A REFER is sent and answered like a BYE unless RFC 3515 says \
            otherwise (§2); for BYE, the callee MUST NOT send one in an early dialog and \
            the caller MAY (RFC 3261 §15). An early dialog can also vanish when another \
            fork answers, taking the transfer with it.",
        causes: "Transfer-while-ringing or pickup features, and B2BUAs that relay a REFER \
            on a leg whose 200 OK has not arrived yet.",
        fix: "Send the REFER only after the call is answered and the ACK is sent, or \
            transfer the ringing call with CANCEL/redirect instead.",
    },
    Rule {
        code: "X106",
        name: "refer-retransmitted-after-final",
        severity: Severity::Warning,
        rfc: "RFC 3261 §17.1.2.2",
        summary: "REFER sent again on the same hop after its final response had arrived",
        requirement: "A non-INVITE client transaction MUST move to Completed when a final \
            response arrives, and only retransmits its request in Trying and Proceeding; \
            a copy after the final response means the response never reached it.",
        causes: "Responses lost on the way back: NAT or firewall pinholes, a SIP ALG, or a \
            response sent to the wrong port (Via/rport handling). Rarely a race where the \
            copy and the response cross on the wire.",
        fix: "Check where the 202/200 to the REFER was sent (Via received/rport) and that \
            it reaches the transferor; look for SIP ALGs on the path.",
    },
    Rule {
        code: "X107",
        name: "refer-accepted-202",
        severity: Severity::Info,
        rfc: "RFC 7647 §5",
        summary: "REFER answered 202 Accepted, which RFC 7647 deprecates (200 OK is meant)",
        requirement: "RFC 7647 carries RFC 6665's deprecation of 202 over to REFER: an agent \
            MUST NOT send 202 to a REFER and MUST treat a 202 it receives as a 200. \
            Reported only as information, since nearly every product still sends 202.",
        causes: "Almost all phones, PBXs and SIP stacks answer 202 because RFC 3515's own \
            examples do; it predates RFC 7647.",
        fix: "Nothing to do for interoperability; a transferor must simply accept 202 and \
            200 alike.",
    },
    Rule {
        code: "X201",
        name: "replaces-incomplete",
        severity: Severity::Error,
        rfc: "RFC 3891 §6.1",
        summary: "Replaces lacks the Call-ID, to-tag or from-tag, so no dialog can match it",
        requirement: "A Replaces value MUST name a Call-ID and carry exactly one to-tag and \
            exactly one from-tag, which together identify the dialog to replace (§6.1, \
            ABNF and text).",
        causes: "Skype for Business / Lync are known to send Replaces with a Call-ID but \
            no tags; transferors that build the attended-transfer Refer-To from the \
            Call-ID alone.",
        fix: "Have the transferor copy Call-ID, to-tag and from-tag of the consultation \
            call into Replaces; where a product cannot, use a blind transfer or let an \
            SBC/PBX complete the Replaces.",
    },
    Rule {
        code: "X202",
        name: "replaces-empty-tag",
        severity: Severity::Error,
        rfc: "RFC 3891 §6.1",
        summary: "Replaces has an empty to-tag or from-tag",
        requirement: "In the Replaces ABNF (§6.1) to-tag and from-tag are tokens, which \
            MUST be at least one character; an empty tag matches no dialog.",
        causes: "Transferors that fill Replaces from a dialog whose tag they never \
            learned (an early or unanswered leg), or B2BUAs that blank tags when \
            rewriting the header.",
        fix: "Take both tags from the confirmed consultation dialog; in a B2BUA, rewrite \
            Replaces to the dialog of its own leg with both tags.",
    },
    Rule {
        code: "X203",
        name: "replaces-not-invite",
        severity: Severity::Error,
        rfc: "RFC 3891 §3",
        summary: "Replaces header sent in a request other than INVITE",
        requirement: "Replaces belongs only in INVITE: a UAS MUST answer 400 Bad Request to \
            any other request that carries it (§3).",
        causes: "Header pass-through in B2BUAs or SBCs that copies Replaces onto the wrong \
            request, or a Replaces meant for the Refer-To URI sent as a header of the \
            REFER itself.",
        fix: "Put Replaces inside the Refer-To URI (`?Replaces=...`) of the REFER; only \
            the INVITE the transferee sends carries it as a header.",
    },
    Rule {
        code: "X204",
        name: "replaces-multiple",
        severity: Severity::Error,
        rfc: "RFC 3891 §3",
        summary: "INVITE carries more than one Replaces header",
        requirement: "An INVITE MUST NOT name more than one dialog to replace: a UAS MUST \
            answer 400 Bad Request when more than one Replaces is present (§3).",
        causes: "B2BUAs that add their own rewritten Replaces but keep the one they \
            received.",
        fix: "Send exactly one Replaces; in a B2BUA, replace the header rather than \
            appending.",
    },
    Rule {
        code: "X205",
        name: "replaces-ignored",
        severity: Severity::Warning,
        rfc: "RFC 3891 §3",
        summary: "INVITE with Replaces answered 2xx, but the replaced call never ended",
        requirement: "A UAS that accepts an INVITE with Replaces answers 2xx and shuts the \
            replaced dialog down: BYE for a confirmed dialog, CANCEL for an early one it \
            started (§3). The text states this without a MUST, so it is reported as a \
            warning.",
        causes: "Receivers that treat an INVITE with Replaces as an ordinary new call; \
            B2BUAs that answer the INVITE themselves without rewriting Replaces to their \
            own leg, leaving the old leg up.",
        fix: "Enable Replaces support on the target (or the PBX in front of it); in a \
            B2BUA, map Replaces to the matching leg and release the old leg.",
    },
    Rule {
        code: "X206",
        name: "replaces-dialog-not-in-capture",
        severity: Severity::Info,
        rfc: "RFC 3891 §3",
        summary: "Replaces names a dialog that is not in the capture",
        requirement: "The receiver matches Replaces against its own dialogs and rejects the \
            INVITE with 481 when none matches (§3; a MUST when the match is not an INVITE \
            dialog). Not a violation by itself: the dialog may live on another PBX or on \
            a leg the capture did not see.",
        causes: "Remote attended transfers (the consultation call runs through another \
            server), B2BUAs that did not rewrite Replaces to their own leg, or a capture \
            taken at one point of a multi-hop path.",
        fix: "Capture at the point that sees both calls; if the target answered 481, \
            check that the B2BUA in between rewrites Replaces to its own leg.",
    },
    Rule {
        code: "X301",
        name: "refer-accepted-no-notify",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.4.4; RFC 4488 §4",
        summary: "REFER was accepted with a 2xx but no NOTIFY ever followed",
        requirement: "Accepting a REFER creates a subscription, and the recipient MUST use \
            NOTIFY to tell the transferor how the reference went (RFC 3515 §2.4.4). The \
            only exception is when REFER and 2xx both carry Refer-Sub: false (RFC 4488 §4). \
            The NOTIFYs follow the dialog's route set, like every in-dialog request of the \
            transferee, so the finding is made only when the capture shows such a request \
            (its ACK, a BYE, ...): a capture that shows none may miss the path the NOTIFYs \
            took, and the progress phase then says so instead.",
        causes: "PBXs and phones that accept the REFER and place the call but never \
            report on it, or send NOTIFYs to an address the transferor never receives; a \
            proxy that answers the NOTIFYs itself and never relays them (a capture on the \
            transferee's side of the proxy shows them).",
        fix: "Enable transfer-progress NOTIFYs on the transferee, or negotiate Refer-Sub: \
            false (norefersub) when the transferor does not need them.",
    },
    Rule {
        code: "X302",
        name: "notify-without-event-refer",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2.4.4; RFC 6665 §8.2.1",
        summary: "NOTIFY in a REFER's subscription lacks `Event: refer`",
        requirement: "Each NOTIFY of the refer subscription carries an Event header with \
            the value `refer` (RFC 3515 §2.4.4; Event is defined in RFC 6665 §8.2.1). We \
            read this as a MUST but could not check the wording, so it is reported one \
            step lower.",
        causes: "Hand-built NOTIFYs in PBX scripts or B2BUAs that drop or rewrite the Event \
            header; receivers such as liblinphone reject such a NOTIFY with 489.",
        fix: "Send `Event: refer` (with `;id=` for a second REFER in the dialog) on every \
            NOTIFY about the transfer.",
    },
    Rule {
        code: "X303",
        name: "notify-body-not-sipfrag",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.4.5",
        summary: "Transfer NOTIFY body is not message/sipfrag starting with a status line",
        requirement: "Each NOTIFY of the refer subscription MUST have a message/sipfrag body \
            (RFC 3420), and that body MUST begin with a SIP status line such as \
            `SIP/2.0 200 OK` (§2.4.5).",
        causes: "NOTIFYs with an empty body, text/plain, or a body that starts with a \
            request line or a bare status code; B2BUAs that relay the body but change \
            its Content-Type.",
        fix: "Send `Content-Type: message/sipfrag` and a body whose first line is the \
            status line of the latest response from the transfer target.",
    },
    Rule {
        code: "X304",
        name: "notify-without-subscription-state",
        severity: Severity::Error,
        rfc: "RFC 6665 §4.1.3, §8.2.3",
        summary: "NOTIFY has no Subscription-State header",
        requirement: "NOTIFY requests MUST carry a Subscription-State header field giving \
            the state of the subscription (§4.1.3; the header is defined in §8.2.3); \
            without it the transferor cannot tell whether more NOTIFYs will come.",
        causes: "Old or hand-built NOTIFY code that predates RFC 3265, and B2BUAs that \
            strip headers they do not know.",
        fix: "Add Subscription-State to every NOTIFY: `active` while the call is in \
            progress, `terminated;reason=noresource` on the last one.",
    },
    Rule {
        code: "X305",
        name: "final-status-subscription-left-active",
        severity: Severity::Error,
        rfc: "RFC 3515 §2.4.7",
        summary: "Final transfer result sent with the subscription left active, never ended",
        requirement: "The final NOTIFY sent for a REFER MUST say the subscription is \
            `terminated` with reason `noresource` (§2.4.7); a final sipfrag (200 or \
            above) under `active` with no terminating NOTIFY after it leaves the \
            transferor waiting.",
        causes: "SIP stacks that send every refer NOTIFY with Subscription-State: active \
            (older liblinphone versions among them), leaving the subscription to expire.",
        fix: "Send the NOTIFY carrying the final status with \
            `Subscription-State: terminated;reason=noresource`.",
    },
    Rule {
        code: "X306",
        name: "terminated-without-noresource",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2.4.7",
        summary: "Terminating NOTIFY of a transfer lacks reason=noresource",
        requirement: "The final NOTIFY for a REFER MUST end the subscription with reason \
            `noresource` (§2.4.7); another reason fits only when the REFER was accepted \
            and the transfer was then refused. Another reason can make the transferor \
            re-subscribe or retry.",
        causes: "Notifiers that end with `reason=timeout`, `deactivated` or no reason at \
            all, reusing generic subscription code; older SIP.js releases, for one, sent \
            `Subscription-State: terminated` with no reason.",
        fix: "End the subscription with `Subscription-State: terminated;reason=noresource` \
            once the transfer has a final outcome.",
    },
    Rule {
        code: "X307",
        name: "subscription-state-malformed",
        severity: Severity::Error,
        rfc: "RFC 6665 §8.2.3, §8.4",
        summary: "Subscription-State header is malformed",
        requirement: "Subscription-State MUST follow the ABNF of RFC 6665 §8.4: a state \
            (`active`, `pending`, `terminated` or an extension token) followed by \
            `;reason=`, `;expires=`, `;retry-after=` or generic parameters (§8.2.3).",
        causes: "String-building bugs such as `terminated;reason=reason=noresource` or \
            `terminated;noresource;`, usually in PBX or B2BUA code that assembles the \
            header by hand.",
        fix: "Fix the header template; the expected form is \
            `Subscription-State: terminated;reason=noresource`.",
    },
    Rule {
        code: "X308",
        name: "notify-without-id",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2.4.6",
        summary: "NOTIFY for a second REFER in the same dialog lacks `;id=`",
        requirement: "For the second and later REFERs a UA receives in one dialog, each \
            NOTIFY MUST carry `Event: refer;id=N`, N being the CSeq number of its REFER \
            (§2.4.6); without it the transferor cannot tell which transfer a NOTIFY is \
            about.",
        causes: "UAs that keep a single refer subscription per dialog, typically after a \
            transfer is retried on the same call.",
        fix: "Add `;id=<CSeq number of the REFER>` to the Event header of the NOTIFYs of \
            every REFER after the first in a dialog.",
    },
    Rule {
        code: "X309",
        name: "notify-after-termination",
        severity: Severity::Warning,
        rfc: "RFC 6665 §4.1.3",
        summary: "NOTIFY sent after its subscription had already been terminated",
        requirement: "Once a NOTIFY says `terminated`, the subscriber MUST consider the \
            subscription over, and MUST answer 481 to a NOTIFY that matches none of its \
            subscriptions (§4.1.3). A BYE ends the call, not the refer subscription \
            (RFC 5057), so a NOTIFY after BYE alone is not this finding.",
        causes: "Notifiers that retry or duplicate the final NOTIFY, or B2BUAs that relay \
            NOTIFYs from both legs of a transfer.",
        fix: "Send nothing for a subscription after its terminating NOTIFY; check the \
            notifier's retry logic.",
    },
    Rule {
        code: "X310",
        name: "cseq-not-increasing",
        severity: Severity::Error,
        rfc: "RFC 3261 §12.2.1.1",
        summary: "CSeq did not increase between requests in the same dialog and direction",
        requirement: "Requests within a dialog MUST carry strictly increasing CSeq numbers \
            in each direction (ACK and CANCEL excepted); a receiver rejects an \
            out-of-order one with 500.",
        causes: "B2BUAs that keep separate counters for REFER/NOTIFY and for the call, \
            or that send a NOTIFY with the CSeq of the REFER it reports on.",
        fix: "Use one local CSeq counter per dialog for every request the UA sends in it.",
    },
    Rule {
        code: "X311",
        name: "sipfrag-contradicts-responses",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2.4.5",
        summary: "NOTIFY reports a status the transfer target never sent",
        requirement: "The status line in the sipfrag is what tells the transferor how the \
            referenced request went (§2.4.5); the RFC states no separate MUST for its \
            accuracy, but a transferor acts on it, for example by hanging up on 200.",
        causes: "PBXs and B2BUAs that report `200 OK` as soon as the target rings, or \
            report their own leg's status instead of the target's answer.",
        fix: "Report the latest response actually received from the transfer target in \
            each NOTIFY.",
    },
    Rule {
        code: "X312",
        name: "notify-despite-refer-sub-false",
        severity: Severity::Warning,
        rfc: "RFC 4488 §4; RFC 6665 §4.1.3",
        summary: "NOTIFY sent although Refer-Sub: false was agreed",
        requirement: "A transferee that grants the request MUST echo Refer-Sub: false in \
            its 2xx, and then no implicit subscription exists (RFC 4488 §4), so it has \
            nothing to NOTIFY; such a NOTIFY matches no subscription and the transferor \
            MUST answer it 481 (RFC 6665 §4.1.3).",
        causes: "Transferees that echo Refer-Sub: false in the 2xx but keep their usual \
            NOTIFY code path.",
        fix: "Either stop sending NOTIFYs after agreeing to Refer-Sub: false, or answer \
            without Refer-Sub: false so the subscription exists.",
    },
    Rule {
        code: "X313",
        name: "notify-unanswered",
        severity: Severity::Warning,
        rfc: "RFC 6665 §4.1.3",
        summary: "The transferor never answered a NOTIFY, so the transferee kept resending it",
        requirement: "A subscriber that receives a NOTIFY matching its subscription MUST \
            answer it 200 (RFC 6665 §4.1.3); without an answer the notifier retransmits and \
            finally treats the subscription as failed.",
        causes: "Transferors that drop NOTIFYs they do not expect (wrong Request-URI or \
            Contact behind NAT, a firewall, a proxy that does not route in-dialog requests), \
            or that already tore the dialog down.",
        fix: "Check that in-dialog requests reach the transferor (Contact, Record-Route, \
            NAT); make the transferor answer every NOTIFY of the refer event package.",
    },
    Rule {
        code: "X314",
        name: "no-final-notify",
        severity: Severity::Warning,
        rfc: "RFC 3515 §2.4.5, §2.4.7",
        summary: "The outcome of the transfer was never reported: no NOTIFY with a final status",
        requirement: "The NOTIFYs of a REFER report how the referenced request went; the \
            RFC expects the last one to carry the final response and terminate the \
            subscription (RFC 3515 §2.4.5, §2.4.7) but states no MUST that it be sent, \
            hence a warning. The transferor relies on it to learn whether the transfer \
            worked.",
        causes: "PBXs and phones that send only `100 Trying` and never the final sipfrag, \
            or that stop after an unanswered NOTIFY; the transferor then waits until its \
            subscription expires.",
        fix: "Send a NOTIFY with the target's final response (200 OK or the error) and \
            `Subscription-State: terminated;reason=noresource` as soon as it is known.",
    },
    Rule {
        code: "X401",
        name: "referred-by-not-copied",
        severity: Severity::Info,
        rfc: "RFC 3892 §2.2",
        summary: "REFER carried Referred-By, but the INVITE it triggered did not",
        requirement: "The referee copies the REFER's Referred-By into the request it sends \
            to the target, so the target knows who transferred the call (§2.2). We could \
            not check whether §2.2 says MUST or SHOULD, so this is reported as info.",
        causes: "Transferees that build the new INVITE from the Refer-To only; Microsoft \
            documents that SBCs must copy Referred-By and Refer-To into the INVITE for \
            Teams Direct Routing transfers to work.",
        fix: "Configure the transferee or SBC to copy Referred-By from the REFER into \
            the triggered INVITE.",
    },
    Rule {
        code: "X501",
        name: "released-before-outcome-caller-lost",
        severity: Severity::Warning,
        rfc: "RFC 5589 §6, §7",
        summary: "Transferor hung up before the outcome and the transfer failed: caller lost",
        requirement: "RFC 5589 (a BCP) lets a transferor send BYE as soon as the REFER is \
            accepted, but says it then gives up helping to recover from a failed \
            transfer (§6); the recoverable flows keep the original call until the final \
            NOTIFY (§6, §7). No MUST or SHOULD is broken, hence a warning.",
        causes: "Transferors that release right after the 202 (blind transfer \
            settings, Microsoft Teams is known to send BYE before the target answers) \
            combined with a target that was busy, rejected or never answered.",
        fix: "Keep the original call until the final NOTIFY (consultative or attended \
            transfer), or give the transferee a fallback such as voicemail for failed \
            transfers.",
    },
    Rule {
        code: "X601",
        name: "content-length-mismatch",
        severity: Severity::Warning,
        rfc: "RFC 3261 §18.3, §20.14",
        summary: "Content-Length does not match the body bytes present",
        requirement: "Content-Length gives the body size in octets; it SHOULD be present \
            and MUST be on stream transports (§20.14). A message shorter than it says is \
            an error the receiver rejects or drops (§18.3).",
        causes: "SIP ALGs in routers and firewalls that rewrite SDP without fixing \
            Content-Length; truncated captures (small snaplen) or lost IP fragments \
            also show up here.",
        fix: "Disable the SIP ALG on the path; if the capture is truncated, capture again \
            with a full snaplen.",
    },
    Rule {
        code: "X602",
        name: "message-unreadable",
        severity: Severity::Warning,
        rfc: "RFC 3261 §7",
        summary: "A SIP message could not be read in full (no header end, malformed lines)",
        requirement: "A SIP message MUST follow the message format of RFC 3261 §7: a start \
            line, header lines, an empty line, then the body. sipxfer skips what it cannot \
            read, so later findings may miss this message.",
        causes: "Truncated captures, lost TCP segments or IP fragments, and broken \
            header folding or binary bytes from faulty encoders or ALGs.",
        fix: "Capture again with a full snaplen on both directions; if the bytes were \
            sent that way, report it to the sender's vendor with the frame number.",
    },
    Rule {
        code: "X701",
        name: "target-outside-trusted-domains",
        severity: Severity::Warning,
        rfc: "RFC 3515 §5.2, §2.4.2",
        summary: "Transfer target is outside the trusted domains (possible toll fraud)",
        requirement: "A UA accepting a REFER SHOULD get approval, from its user or from \
            configured policy, before acting on it (§2.4.2); §5.2 discusses authorizing \
            REFER. Reported only once trusted domains are configured.",
        causes: "PBXs and SBCs that act on any REFER they receive, which lets a caller \
            or a compromised peer send the call to a premium-rate or foreign \
            destination.",
        fix: "Restrict REFER handling to the domains you trust (on the PBX or SBC) and \
            list them in sipxfer's trusted domains.",
    },
];

/// The rule with this code or name (case-insensitive).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC sections a rule may cite, each checked against that RFC's table of
    /// contents when the catalog was written. A new citation goes here first.
    const KNOWN_SECTIONS: &[(&str, &[&str])] = &[
        (
            "3261",
            &[
                "7", "12.2.1.1", "15", "17.1.2.2", "18.3", "19.1.1", "20.14", "25.1",
            ],
        ),
        (
            "3515",
            &[
                "2", "2.1", "2.4.1", "2.4.2", "2.4.4", "2.4.5", "2.4.6", "2.4.7", "5", "5.2",
            ],
        ),
        ("3891", &["3", "6.1"]),
        ("3892", &["2.2"]),
        ("4488", &["4"]),
        ("5589", &["6", "7"]),
        ("6665", &["4.1.3", "8.2.1", "8.2.3", "8.4"]),
        ("7647", &["5"]),
    ];

    /// Splits `RFC 3515 §2.4.1, §2.4.2; RFC 3261 §15` into (rfc, section) pairs,
    /// or `None` when the text does not have that shape.
    fn citations(rfc: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        for reference in rfc.split("; ") {
            let rest = reference.strip_prefix("RFC ")?;
            let (number, sections) = rest.split_once(' ')?;
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            for section in sections.split(", ") {
                out.push((number, section.strip_prefix('§')?));
            }
        }
        Some(out)
    }

    fn is_known(number: &str, section: &str) -> bool {
        KNOWN_SECTIONS
            .iter()
            .any(|(n, sections)| *n == number && sections.contains(&section))
    }

    #[test]
    fn codes_are_unique_well_formed_and_in_order() {
        for rule in RULES {
            let bytes = rule.code.as_bytes();
            assert_eq!(bytes.len(), 4, "{}", rule.code);
            assert_eq!(bytes.first(), Some(&b'X'), "{}", rule.code);
            assert!(
                bytes.iter().skip(1).all(u8::is_ascii_digit),
                "{} is not X followed by three digits",
                rule.code
            );
        }
        for pair in RULES.windows(2) {
            if let [a, b] = pair {
                assert!(a.code < b.code, "{} must come before {}", a.code, b.code);
            }
        }
    }

    #[test]
    fn names_are_unique_kebab_case() {
        for rule in RULES {
            assert!(!rule.name.is_empty());
            assert!(
                rule.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} has characters outside a-z 0-9 -",
                rule.name
            );
            assert!(!rule.name.starts_with('-') && !rule.name.ends_with('-'));
            assert!(!rule.name.contains("--"), "{}", rule.name);
            let same = RULES.iter().filter(|r| r.name == rule.name).count();
            assert_eq!(same, 1, "name {} is used twice", rule.name);
        }
    }

    #[test]
    fn find_works_by_code_and_by_name_in_any_case() {
        for rule in RULES {
            let lower = rule.code.to_ascii_lowercase();
            let upper_name = rule.name.to_ascii_uppercase();
            for key in [rule.code, lower.as_str(), rule.name, upper_name.as_str()] {
                let found = find(key).map(|r| r.code);
                assert_eq!(found, Some(rule.code), "find({key})");
            }
        }
        assert_eq!(find("refer-to-MISSING").map(|r| r.code), Some("X101"));
        assert!(find("X999").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn every_text_is_filled_and_summaries_fit_one_line() {
        for rule in RULES {
            for (field, text) in [
                ("summary", rule.summary),
                ("requirement", rule.requirement),
                ("causes", rule.causes),
                ("fix", rule.fix),
            ] {
                assert!(!text.trim().is_empty(), "{} {field} is empty", rule.code);
                // a `\` line continuation that lost its leading space glues words
                assert!(
                    !text.contains("  "),
                    "{} {field} has a double space",
                    rule.code
                );
            }
            assert!(
                rule.summary.chars().count() <= 90,
                "{} summary is longer than 90 characters",
                rule.code
            );
            assert!(!rule.summary.contains('\n'), "{}", rule.code);
        }
    }

    #[test]
    fn every_requirement_states_its_level() {
        for rule in RULES {
            assert!(
                ["MUST", "SHOULD", "MAY"]
                    .iter()
                    .any(|level| rule.requirement.contains(level)),
                "{} requirement names no level",
                rule.code
            );
        }
    }

    #[test]
    fn every_citation_names_a_section_that_exists() {
        for rule in RULES {
            let cited = citations(rule.rfc);
            assert!(cited.is_some(), "{}: cannot read {:?}", rule.code, rule.rfc);
            for (number, section) in cited.unwrap_or_default() {
                assert!(
                    is_known(number, section),
                    "{} cites RFC {number} §{section}, not in KNOWN_SECTIONS",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn citations_are_read_strictly() {
        assert_eq!(
            citations("RFC 3515 §2; RFC 3261 §15"),
            Some(vec![("3515", "2"), ("3261", "15")])
        );
        assert_eq!(citations("RFC 3515 2.4.1"), None);
        assert_eq!(citations("RFC3515 §2.4.1"), None);
        assert_eq!(
            citations("RFC 3515 §2.4.1 (check)"),
            Some(vec![("3515", "2.4.1 (check)")])
        );
        assert!(!is_known("3515", "2.4.1 (check)"));
    }

    #[test]
    fn nothing_is_left_marked_check() {
        for rule in RULES {
            for text in [
                rule.rfc,
                rule.summary,
                rule.requirement,
                rule.causes,
                rule.fix,
            ] {
                assert!(
                    !text.to_ascii_lowercase().contains("check)"),
                    "{} still says (check)",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn catalog_covers_the_agreed_codes() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                "X101", "X102", "X103", "X104", "X105", "X106", "X107", "X201", "X202", "X203",
                "X204", "X205", "X206", "X301", "X302", "X303", "X304", "X305", "X306", "X307",
                "X308", "X309", "X310", "X311", "X312", "X313", "X314", "X401", "X501", "X601",
                "X602", "X701",
            ]
        );
    }

    #[test]
    fn severities_serialize_lowercase() {
        assert_eq!(Severity::Error.as_str(), "error");
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        let json = serde_json::to_string(&find("X107").map(|r| r.severity)).unwrap_or_default();
        assert_eq!(json, "\"info\"");
    }
}
