//! The little of SDP (RFC 4566) that call state needs: media direction, for hold and
//! resume (RFC 3264 §8.4).

/// Direction of the media offered or answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// The direction of the first audio stream: `a=sendonly/recvonly/inactive` at media or
/// session level, or `c=0.0.0.0` (RFC 2543 style hold). `None` when the body is not SDP.
pub fn direction(body: &[u8]) -> Option<Direction> {
    let _ = body;
    None
}
