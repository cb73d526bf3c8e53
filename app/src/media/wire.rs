//! Which connection a signaling message belongs to. Each side of a pair may replace its
//! `RTCPeerConnection` (a participant seen leaving and coming back, a connection that never
//! connected), and messages already on their way still name the old one. So every message the
//! mesh sends carries a *tag*: the id of the connection that sent it and, once known, the id of
//! the connection it is for. The receiver drops whatever is addressed to a connection it has
//! replaced, and a message from a connection it has not seen before tells it the other side
//! started over.
//!
//! The tag travels inside the message's own text, in the places SDP leaves for extensions, so
//! the relay and the message shapes stay as they are:
//! - a description gets a session-level attribute line before its first `m=` line:
//!   `a=knock-connection:<from> <to>` (`-` while the addressee is not known);
//! - a candidate gets two extension attributes at the end of its line (RFC 8839 allows
//!   `extension-att-name extension-att-value` pairs there): `knock-from <from> knock-to <to>`.
//!
//! Both are removed again before the browser sees the message. A message without a tag (from a
//! client that does not add one) is handed on as it is.
//!
//! The SFU's offers (of the others' media) name the participant each media section carries:
//! Knock adds `a=knock-participant:<session id>` after the section's `a=mid:` line
//! ([`label_participants`]), and the browser reads it back ([`participants_by_mid`]).

use crate::model::{IceCandidate, SessionDescription, SignalMessage};

/// Where a message comes from and whom it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The sending connection.
    pub from: String,
    /// The receiving connection, once the sender has heard from it.
    pub to: Option<String>,
}

const SDP_ATTRIBUTE: &str = "a=knock-connection:";
const FROM: &str = "knock-from";
const TO: &str = "knock-to";
/// Written where the addressee is not known yet.
const NOBODY: &str = "-";

/// A connection id: short, and never containing whitespace.
fn valid(id: &str) -> bool {
    !id.is_empty()
        && id != NOBODY
        && id.len() <= 32
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `message` with `tag` added.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn tag(message: SignalMessage, tag: &Tag) -> SignalMessage {
    let to = tag.to.as_deref().unwrap_or(NOBODY);
    match message {
        SignalMessage::Description(description) => {
            let line = format!("{SDP_ATTRIBUTE}{} {to}\r\n", tag.from);
            let sdp = &description.sdp;
            let at = sdp
                .find("\r\nm=")
                .map(|at| at + 2)
                .or_else(|| sdp.find("\nm=").map(|at| at + 1))
                .unwrap_or(sdp.len());
            let mut tagged = String::with_capacity(sdp.len() + line.len() + 2);
            tagged.push_str(&sdp[..at]);
            if !tagged.is_empty() && !tagged.ends_with('\n') {
                tagged.push_str("\r\n");
            }
            tagged.push_str(&line);
            tagged.push_str(&sdp[at..]);
            SignalMessage::Description(SessionDescription {
                kind: description.kind,
                sdp: tagged,
            })
        }
        SignalMessage::Candidate(candidate) => SignalMessage::Candidate(IceCandidate {
            candidate: format!("{} {FROM} {} {TO} {to}", candidate.candidate, tag.from),
            ..candidate
        }),
    }
}

/// The tag of `message`, if it has a well-formed one, and the message as the browser wants it.
pub fn untag(message: SignalMessage) -> (Option<Tag>, SignalMessage) {
    match message {
        SignalMessage::Description(description) => {
            let mut found = None;
            let mut sdp = String::with_capacity(description.sdp.len());
            for line in description.sdp.split_inclusive('\n') {
                if let Some(value) = line.trim_end().strip_prefix(SDP_ATTRIBUTE) {
                    if found.is_none() {
                        found = parse(value.split_whitespace());
                    }
                } else {
                    sdp.push_str(line);
                }
            }
            (
                found,
                SignalMessage::Description(SessionDescription {
                    kind: description.kind,
                    sdp,
                }),
            )
        }
        SignalMessage::Candidate(candidate) => {
            let words: Vec<&str> = candidate.candidate.split(' ').collect();
            let n = words.len();
            if n >= 4 && words[n - 4] == FROM && words[n - 2] == TO {
                let found = parse([words[n - 3], words[n - 1]].into_iter());
                let line = words[..n - 4].join(" ");
                (
                    found,
                    SignalMessage::Candidate(IceCandidate {
                        candidate: line,
                        ..candidate
                    }),
                )
            } else {
                (None, SignalMessage::Candidate(candidate))
            }
        }
    }
}

/// The attribute Knock adds to each media section of the SFU's offers: whose media it is.
const PARTICIPANT_ATTRIBUTE: &str = "a=knock-participant:";

/// `sdp` with each media section whose mid `participants` names labelled with that
/// participant (a session id: no whitespace).
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub fn label_participants(sdp: &str, participants: &[(String, String)]) -> String {
    let mut labelled = String::with_capacity(sdp.len() + participants.len() * 64);
    for line in sdp.split_inclusive('\n') {
        labelled.push_str(line);
        if let Some(mid) = line.trim_end().strip_prefix("a=mid:")
            && let Some((_, participant)) = participants.iter().find(|(m, _)| m == mid)
            && !participant.is_empty()
            && !participant.contains(char::is_whitespace)
        {
            if !line.ends_with('\n') {
                labelled.push_str("\r\n");
            }
            labelled.push_str(&format!("{PARTICIPANT_ATTRIBUTE}{participant}\r\n"));
        }
    }
    labelled
}

/// The media section ids of an SDP, each with the participant Knock named for it (sections
/// without one are left out).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn participants_by_mid(sdp: &str) -> std::collections::HashMap<String, String> {
    let mut found = std::collections::HashMap::new();
    let mut mid: Option<String> = None;
    let mut participant: Option<String> = None;
    let mut flush = |mid: &mut Option<String>, participant: &mut Option<String>| {
        if let (Some(mid), Some(participant)) = (mid.take(), participant.take()) {
            found.insert(mid, participant);
        }
    };
    for line in sdp.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            flush(&mut mid, &mut participant);
        } else if let Some(value) = line.strip_prefix("a=mid:") {
            mid = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix(PARTICIPANT_ATTRIBUTE) {
            participant = Some(value.to_owned());
        }
    }
    flush(&mut mid, &mut participant);
    found
}

fn parse<'a>(mut words: impl Iterator<Item = &'a str>) -> Option<Tag> {
    let from = words.next().filter(|from| valid(from))?;
    let to = match words.next()? {
        NOBODY => None,
        to if valid(to) => Some(to.to_owned()),
        _ => return None,
    };
    words.next().is_none().then(|| Tag {
        from: from.to_owned(),
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SdpKind;

    const OFFER: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                         a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n";
    const CANDIDATE: &str = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 ufrag AbCd network-id 1";

    fn description(sdp: &str) -> SignalMessage {
        SignalMessage::Description(SessionDescription {
            kind: SdpKind::Offer,
            sdp: sdp.into(),
        })
    }

    fn candidate(line: &str) -> SignalMessage {
        SignalMessage::Candidate(IceCandidate {
            candidate: line.into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        })
    }

    fn tag_of(from: &str, to: Option<&str>) -> Tag {
        Tag {
            from: from.into(),
            to: to.map(Into::into),
        }
    }

    #[test]
    fn a_tagged_description_comes_back_as_it_was() {
        for to in [None, Some("b2")] {
            let sent = tag(description(OFFER), &tag_of("a1", to));
            let SignalMessage::Description(tagged) = &sent else {
                panic!("a description")
            };
            // A session-level attribute: before the first media section.
            let line = format!("a=knock-connection:a1 {}\r\n", to.unwrap_or("-"));
            let at = tagged.sdp.find(&line).expect("tagged");
            assert!(at < tagged.sdp.find("m=video").expect("media"));
            assert_eq!(untag(sent), (Some(tag_of("a1", to)), description(OFFER)));
        }
        // Without media sections, the line goes at the end.
        let bare = "v=0\r\ns=-\r\n";
        assert_eq!(
            untag(tag(description(bare), &tag_of("x", None))),
            (Some(tag_of("x", None)), description(bare))
        );
    }

    #[test]
    fn a_tagged_candidate_comes_back_as_it_was() {
        let sent = tag(candidate(CANDIDATE), &tag_of("a1", Some("b2")));
        let SignalMessage::Candidate(tagged) = &sent else {
            panic!("a candidate")
        };
        assert!(tagged.candidate.ends_with(" knock-from a1 knock-to b2"));
        assert_eq!(
            untag(sent),
            (Some(tag_of("a1", Some("b2"))), candidate(CANDIDATE))
        );
        let sent = tag(candidate(CANDIDATE), &tag_of("a1", None));
        assert_eq!(
            untag(sent),
            (Some(tag_of("a1", None)), candidate(CANDIDATE))
        );
    }

    #[test]
    fn the_sfus_media_sections_name_their_participants() {
        let offer = "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n\
                     m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\n\
                     m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=inactive\r\n";
        let labelled = label_participants(
            offer,
            &[("0".into(), "ana".into()), ("1".into(), "ana".into())],
        );
        assert!(labelled.contains("a=mid:0\r\na=knock-participant:ana\r\na=sendonly"));
        let found = participants_by_mid(&labelled);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found.get("1").map(String::as_str), Some("ana"));
        assert_eq!(found.get("2"), None, "an inactive section is nobody's");
        assert!(participants_by_mid(offer).is_empty());
        assert_eq!(
            label_participants(offer, &[("0".into(), "two words".into())]),
            offer,
            "never a broken line"
        );
    }

    #[test]
    fn untagged_or_malformed_messages_pass_unchanged() {
        assert_eq!(untag(description(OFFER)), (None, description(OFFER)));
        assert_eq!(untag(candidate(CANDIDATE)), (None, candidate(CANDIDATE)));
        let odd = format!("{CANDIDATE} knock-from a/b knock-to c");
        assert_eq!(untag(candidate(&odd)).0, None);
        let odd = OFFER.replace("s=-\r\n", "s=-\r\na=knock-connection:a1\r\n");
        assert_eq!(untag(description(&odd)).0, None, "no addressee at all");
    }
}
