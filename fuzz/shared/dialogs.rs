//! The structure-aware target `transfer_dialogs`: the fuzzer's bytes become, through
//! `arbitrary`, a script of SIP dialogs with transfers (INVITE/200/ACK, REFER with
//! Refer-To, Replaces and Referred-By, 202, NOTIFY with a sipfrag, the new INVITE,
//! BYE), whose header values are then mutated, written as a pcap, and run through
//! every renderer with every rule on ([`sipxfer::fuzzing::pipeline`]). Random bytes
//! rarely make a SIP message, let alone a transfer; a script always does, so the
//! fuzzer spends its time in the dialog tracker, the linker and the rules.
//!
//! One copy: `fuzz/fuzz_targets/transfer_dialogs.rs` and `tests/fuzz_corpora.rs` both
//! include this file.

use arbitrary::{Arbitrary, Unstructured};
use sipxfer::capture::write::PcapWriter;

/// The three parties (and a proxy-ish fourth): index into [`HOSTS`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Party {
    A,
    B,
    C,
    D,
}

const HOSTS: [([u8; 4], &str, &str); 4] = [
    ([10, 0, 0, 1], "alice", "Alice"),
    ([10, 0, 0, 2], "bob", "Bob"),
    ([10, 0, 0, 3], "carol", "Carol"),
    ([192, 168, 1, 9], "dave", "Dave"),
];

impl Party {
    fn at(self) -> ([u8; 4], &'static str, &'static str) {
        match self {
            Party::A => HOSTS[0],
            Party::B => HOSTS[1],
            Party::C => HOSTS[2],
            Party::D => HOSTS[3],
        }
    }
}

/// A canonical flow to start from, so that even a short input reaches the linker.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Template {
    None,
    /// A calls B, B refers A to C, A calls C, B hangs up.
    Blind,
    /// A calls B, B calls C, B refers A to C with Replaces of the B-C call.
    Attended,
}

/// One message of the script. `call` picks one of four Call-IDs; who is caller and
/// callee of a call is fixed by its INVITE (else A and B).
#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    Invite {
        call: u8,
        from: Party,
        to: Party,
        /// Replaces of this other call.
        replaces: Option<u8>,
        referred_by: Option<Party>,
    },
    Response {
        call: u8,
        status: u16,
        /// Answers the call's INVITE, else its last request.
        to_invite: bool,
    },
    Ack {
        call: u8,
    },
    Refer {
        call: u8,
        target: Party,
        /// Refer-To carries `?Replaces=` of this call.
        replaces: Option<u8>,
        referred_by: bool,
        norefersub: bool,
        /// Sent by the callee of the call (the usual transferor), else by the caller.
        by_callee: bool,
    },
    Notify {
        call: u8,
        status: u16,
        terminated: bool,
    },
    Bye {
        call: u8,
        by_caller: bool,
    },
    /// Capture time passes (ms).
    Pause(u16),
}

/// A change made to message `message` (modulo the count) once the script is built.
#[derive(Arbitrary, Debug, Clone)]
pub struct Mutation {
    pub message: u16,
    pub header: Header,
    pub edit: Edit,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Header {
    StartLine,
    Via,
    From,
    To,
    CallId,
    CSeq,
    Contact,
    ReferTo,
    ReferredBy,
    Replaces,
    Event,
    SubscriptionState,
    ContentType,
    ContentLength,
    Body,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    /// The value replaced by these bytes.
    Set(Vec<u8>),
    /// These bytes added to the value's end.
    Append(Vec<u8>),
    /// The value cut to this many bytes.
    Truncate(u8),
    Remove,
    /// The header twice.
    Duplicate,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Scenario {
    pub template: Template,
    pub steps: Vec<Step>,
    pub mutations: Vec<Mutation>,
    /// The capture written twice over (merged as by a second probe): each message
    /// is sent again, as a proxy would relay it.
    pub relayed: bool,
}

/// A message before it is written: start line, headers, body.
struct Msg {
    src: Party,
    dst: Party,
    at_ms: u64,
    start: Vec<u8>,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
}

impl Msg {
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.start.clone();
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

#[derive(Clone, Copy)]
struct Call {
    caller: Party,
    callee: Party,
    cseq: u32,
    last_method: &'static str,
}

struct Builder {
    calls: [Call; 4],
    now_ms: u64,
    messages: Vec<Msg>,
}

fn uri(p: Party) -> String {
    let (ip, user, _) = p.at();
    format!("sip:{user}@{}.{}.{}.{}:5060", ip[0], ip[1], ip[2], ip[3])
}

fn call_id(call: usize) -> String {
    format!("call-{call}@fuzz.test")
}

fn tag(p: Party, call: usize) -> String {
    format!("{}-{call}", p.at().1)
}

impl Builder {
    fn new() -> Builder {
        let c = Call {
            caller: Party::A,
            callee: Party::B,
            cseq: 0,
            last_method: "INVITE",
        };
        Builder {
            calls: [c; 4],
            now_ms: 0,
            messages: Vec::new(),
        }
    }

    /// A request from the caller (or the callee) in `call`, counted in its CSeq.
    fn request(&mut self, call: usize, from_caller: bool, method: &'static str) -> Msg {
        let c = &mut self.calls[call];
        let cseq = if method == "ACK" {
            1
        } else {
            c.cseq += 1;
            c.last_method = method;
            c.cseq
        };
        self.build(call, from_caller, method, cseq)
    }

    /// The dialog's headers for `method` with `cseq`, from the caller or the callee.
    fn build(&mut self, call: usize, from_caller: bool, method: &'static str, cseq: u32) -> Msg {
        let c = self.calls[call];
        let (src, dst) = if from_caller {
            (c.caller, c.callee)
        } else {
            (c.callee, c.caller)
        };
        let (ip, _, name) = src.at();
        let (from, to) = (
            format!("\"{name}\" <{}>;tag={}", uri(src), tag(src, call)),
            format!("<{}>;tag={}", uri(dst), tag(dst, call)),
        );
        self.now_ms += 10;
        Msg {
            src,
            dst,
            at_ms: self.now_ms,
            start: format!("{method} {} SIP/2.0", uri(dst)).into_bytes(),
            headers: vec![
                (
                    "Via",
                    format!(
                        "SIP/2.0/UDP {}.{}.{}.{}:5060;branch=z9hG4bK-{call}-{}-{method}",
                        ip[0], ip[1], ip[2], ip[3], cseq
                    )
                    .into_bytes(),
                ),
                ("From", from.into_bytes()),
                ("To", to.into_bytes()),
                ("Call-ID", call_id(call).into_bytes()),
                ("CSeq", format!("{cseq} {method}").into_bytes()),
                ("Contact", format!("<{}>", uri(src)).into_bytes()),
                ("Max-Forwards", b"70".to_vec()),
            ],
            body: Vec::new(),
        }
    }

    fn push(&mut self, mut m: Msg) {
        if !m.body.is_empty() && !m.headers.iter().any(|(n, _)| *n == "Content-Type") {
            m.headers
                .push(("Content-Type", b"application/sdp".to_vec()));
        }
        m.headers
            .push(("Content-Length", m.body.len().to_string().into_bytes()));
        self.messages.push(m);
    }

    fn step(&mut self, step: &Step) {
        match *step {
            Step::Invite {
                call,
                from,
                to,
                replaces,
                referred_by,
            } => {
                let call = usize::from(call % 4);
                self.calls[call] = Call {
                    caller: from,
                    callee: to,
                    cseq: 0,
                    last_method: "INVITE",
                };
                let mut m = self.request(call, true, "INVITE");
                // A new call's To has no tag yet.
                if let Some((_, to)) = m.headers.iter_mut().find(|(n, _)| *n == "To") {
                    *to = format!("<{}>", uri(self.calls[call].callee)).into_bytes();
                }
                if let Some(r) = replaces {
                    let r = usize::from(r % 4);
                    let rc = self.calls[r];
                    m.headers.push((
                        "Replaces",
                        format!(
                            "{};to-tag={};from-tag={}",
                            call_id(r),
                            tag(rc.callee, r),
                            tag(rc.caller, r)
                        )
                        .into_bytes(),
                    ));
                }
                if let Some(p) = referred_by {
                    m.headers
                        .push(("Referred-By", format!("<{}>", uri(p)).into_bytes()));
                }
                m.body = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n".to_vec();
                self.push(m);
            }
            Step::Response {
                call,
                status,
                to_invite,
            } => {
                let call = usize::from(call % 4);
                let c = self.calls[call];
                let (method, cseq) = if to_invite {
                    ("INVITE", 1)
                } else {
                    (c.last_method, c.cseq)
                };
                // A response goes back from the request's receiver: the request as
                // the caller sent it, turned round.
                let mut m = self.build(call, true, method, cseq);
                std::mem::swap(&mut m.src, &mut m.dst);
                let status = 100 + status % 600;
                m.start = format!("SIP/2.0 {status} Reason").into_bytes();
                if let Some((_, v)) = m.headers.iter_mut().find(|(n, _)| *n == "Contact") {
                    *v = format!("<{}>", uri(m.src)).into_bytes();
                }
                self.push(m);
            }
            Step::Ack { call } => {
                let m = self.request(usize::from(call % 4), true, "ACK");
                self.push(m);
            }
            Step::Refer {
                call,
                target,
                replaces,
                referred_by,
                norefersub,
                by_callee,
            } => {
                let call = usize::from(call % 4);
                let mut m = self.request(call, !by_callee, "REFER");
                let mut refer_to = format!("<{}", uri(target));
                if let Some(r) = replaces {
                    let r = usize::from(r % 4);
                    let rc = self.calls[r];
                    refer_to.push_str(&format!(
                        "?Replaces={}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
                        call_id(r).replace('@', "%40"),
                        tag(rc.callee, r),
                        tag(rc.caller, r)
                    ));
                }
                refer_to.push('>');
                m.headers.push(("Refer-To", refer_to.into_bytes()));
                if referred_by {
                    let by = format!("<{}>", uri(m.src));
                    m.headers.push(("Referred-By", by.into_bytes()));
                }
                if norefersub {
                    m.headers.push(("Refer-Sub", b"false".to_vec()));
                    m.headers.push(("Require", b"norefersub".to_vec()));
                }
                self.push(m);
            }
            Step::Notify {
                call,
                status,
                terminated,
            } => {
                let call = usize::from(call % 4);
                // The NOTIFY goes the other way from the REFER: from the transferee.
                let mut m = self.request(call, true, "NOTIFY");
                m.headers.push(("Event", b"refer".to_vec()));
                let state = if terminated {
                    "terminated;reason=noresource"
                } else {
                    "active;expires=60"
                };
                m.headers
                    .push(("Subscription-State", state.as_bytes().to_vec()));
                m.headers
                    .push(("Content-Type", b"message/sipfrag;version=2.0".to_vec()));
                m.body = format!("SIP/2.0 {} Status\r\n", 100 + status % 600).into_bytes();
                self.push(m);
            }
            Step::Bye { call, by_caller } => {
                let m = self.request(usize::from(call % 4), by_caller, "BYE");
                self.push(m);
            }
            Step::Pause(ms) => self.now_ms += u64::from(ms),
        }
    }

    fn template(&mut self, t: Template) {
        use Party::*;
        let call = |call, from, to| Step::Invite {
            call,
            from,
            to,
            replaces: None,
            referred_by: None,
        };
        let ok = |call| Step::Response {
            call,
            status: 100,
            to_invite: true,
        };
        let answered = |c, from, to| [call(c, from, to), ok(c), Step::Ack { call: c }];
        let mut steps: Vec<Step> = Vec::new();
        match t {
            Template::None => return,
            Template::Blind | Template::Attended => {
                steps.extend(answered(0, A, B));
                let attended = matches!(t, Template::Attended);
                if attended {
                    steps.extend(answered(1, B, C));
                }
                steps.push(Step::Refer {
                    call: 0,
                    target: C,
                    replaces: attended.then_some(1),
                    referred_by: true,
                    norefersub: false,
                    by_callee: true,
                });
                steps.push(Step::Response {
                    call: 0,
                    status: 102,
                    to_invite: false,
                });
                steps.push(Step::Notify {
                    call: 0,
                    status: 0,
                    terminated: false,
                });
                steps.push(Step::Invite {
                    call: 2,
                    from: A,
                    to: C,
                    replaces: attended.then_some(1),
                    referred_by: Some(B),
                });
                steps.push(ok(2));
                steps.push(Step::Ack { call: 2 });
                steps.push(Step::Notify {
                    call: 0,
                    status: 100,
                    terminated: true,
                });
                if attended {
                    steps.push(Step::Bye {
                        call: 1,
                        by_caller: false,
                    });
                }
                steps.push(Step::Bye {
                    call: 0,
                    by_caller: false,
                });
                steps.push(Step::Bye {
                    call: 2,
                    by_caller: true,
                });
            }
        }
        for s in &steps {
            self.step(s);
        }
    }

    fn mutate(&mut self, m: &Mutation) {
        let count = self.messages.len();
        if count == 0 {
            return;
        }
        let Some(msg) = self.messages.get_mut(usize::from(m.message) % count) else {
            return;
        };
        let name = match m.header {
            Header::StartLine => return edit(&mut msg.start, &m.edit),
            Header::Body => return edit(&mut msg.body, &m.edit),
            Header::Via => "Via",
            Header::From => "From",
            Header::To => "To",
            Header::CallId => "Call-ID",
            Header::CSeq => "CSeq",
            Header::Contact => "Contact",
            Header::ReferTo => "Refer-To",
            Header::ReferredBy => "Referred-By",
            Header::Replaces => "Replaces",
            Header::Event => "Event",
            Header::SubscriptionState => "Subscription-State",
            Header::ContentType => "Content-Type",
            Header::ContentLength => "Content-Length",
        };
        let at = msg.headers.iter().position(|(n, _)| *n == name);
        match (&m.edit, at) {
            (Edit::Remove, Some(i)) => {
                msg.headers.remove(i);
            }
            (Edit::Duplicate, Some(i)) if msg.headers.len() < 64 => {
                let h = msg.headers[i].clone();
                msg.headers.insert(i, h);
            }
            (Edit::Set(v), None) => msg.headers.push((name, v.clone())),
            (e, Some(i)) => edit(&mut msg.headers[i].1, e),
            (_, None) => {}
        }
    }
}

/// Longest a value gets by editing: `Duplicate` doubles, and 32 of them in a row once
/// asked for 2^32 times the bytes (the harness's own out-of-memory, found by the
/// fuzzer). A SIP message must fit a datagram anyway.
const MAX_VALUE: usize = 4096;

fn edit(value: &mut Vec<u8>, e: &Edit) {
    edit_unbounded(value, e);
    value.truncate(MAX_VALUE);
}

fn edit_unbounded(value: &mut Vec<u8>, e: &Edit) {
    match e {
        Edit::Set(v) => *value = v.clone(),
        Edit::Append(v) => value.extend_from_slice(v),
        Edit::Truncate(n) => value.truncate(usize::from(*n)),
        Edit::Remove => value.clear(),
        Edit::Duplicate => {
            let copy = value.clone();
            value.extend_from_slice(&copy);
        }
    }
}

/// Ethernet II, IPv4 (no options) and UDP headers around `payload`; checksums zero
/// (UDP's is optional over IPv4; the IPv4 one sipxfer does not check).
fn udp_frame(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut f = Vec::with_capacity(14 + total);
    f.extend_from_slice(&[2, 0, 0, 0, 0, dst[3], 2, 0, 0, 0, 0, src[3], 0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(total.min(65535) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&5060u16.to_be_bytes());
    f.extend_from_slice(&5060u16.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()).min(65535) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

impl Scenario {
    /// The script as a pcap file.
    pub fn pcap(&self) -> Vec<u8> {
        let mut b = Builder::new();
        b.template(self.template);
        // Bounded, so one input stays quick to run.
        for s in self.steps.iter().take(64) {
            b.step(s);
        }
        for m in self.mutations.iter().take(32) {
            b.mutate(m);
        }
        let Ok(mut w) = PcapWriter::new(Vec::new(), 1) else {
            return Vec::new();
        };
        let base_ns: i64 = 1_700_000_000_000_000_000;
        for m in &b.messages {
            let bytes = m.bytes();
            let ts = base_ns + i64::try_from(m.at_ms).unwrap_or(0) * 1_000_000;
            let frame = udp_frame(m.src.at().0, m.dst.at().0, &bytes);
            let _ = w.write_packet(ts, &frame);
            if self.relayed {
                // Relayed by D a millisecond later, as a proxy would.
                let again = udp_frame(HOSTS[3].0, m.dst.at().0, &bytes);
                let _ = w.write_packet(ts + 1_000_000, &again);
            }
        }
        w.into_inner()
    }
}

/// The body of the target: bytes to script to pcap to the whole pipeline.
pub fn run(data: &[u8]) {
    let Ok(scenario) = Scenario::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    sipxfer::fuzzing::pipeline(&scenario.pcap());
}
