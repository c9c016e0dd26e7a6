//! The SIP parser and every typed accessor on arbitrary bytes: none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipxfer::sip::{Message, Sipfrag, framing, looks_like_sip, sdp};

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_sip(data);
    let _ = framing::frame_stream(data);
    let _ = framing::datagram_message(data);
    let _ = sdp::direction(data);
    let _ = sdp::media_endpoints(data);
    let _ = Sipfrag::parse(data);
    for stream in [false, true] {
        if let Ok(m) = Message::parse(data, stream) {
            let _ = (m.call_id(), m.from(), m.to(), m.cseq(), m.vias(), m.contact());
            let _ = (m.content_type(), m.content_length(), m.referred_by(), m.replaces());
            let _ = (m.event(), m.subscription_state(), m.refer_sub(), m.target_dialog());
            let _ = (m.requires("replaces"), m.supports("norefersub"), m.user_agent());
            let _ = m.request_uri();
            for r in m.refer_to() {
                let _ = r.parsed_uri().map(|u| (u.header("Replaces"), u.param("transport")));
                let _ = r.tag();
            }
        }
    }
});
