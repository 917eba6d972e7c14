//! The response kept for replays, and its byte form (what gets sealed).

/// A final response as the client got it: status, the headers worth replaying
/// (`Content-Type`, `Location`, `ETag`, …) and the exact body bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for RecordedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may hold tokens or personal data.
        f.debug_struct("RecordedResponse")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The stored form could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored response is malformed")]
pub struct MalformedResponse;

const FORMAT_VERSION: u8 = 1;

impl RecordedResponse {
    /// Whether the request did what it was asked (the only outcomes kept for replay).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `version | status u16 | header count u16 | (name len u16, name, value len u32,
    /// value)* | body`, all big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| 6 + n.len() + v.len())
            .sum();
        let mut out = Vec::with_capacity(5 + headers + self.body.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.status.to_be_bytes());
        let count = u16::try_from(self.headers.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for (name, value) in self.headers.iter().take(usize::from(count)) {
            let name = &name.as_bytes()[..name.len().min(usize::from(u16::MAX))];
            let value = &value.as_bytes()[..value.len().min(u32::MAX as usize)];
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name);
            out.extend_from_slice(&(value.len() as u32).to_be_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&self.body);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, MalformedResponse> {
        let mut reader = Reader(bytes);
        if reader.take(1)? != [FORMAT_VERSION] {
            return Err(MalformedResponse);
        }
        let status = u16::from_be_bytes(reader.array()?);
        let count = u16::from_be_bytes(reader.array()?);
        let mut headers = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let name_len = u16::from_be_bytes(reader.array()?);
            let name = reader.text(usize::from(name_len))?;
            let value_len = u32::from_be_bytes(reader.array()?);
            let value = reader.text(value_len as usize)?;
            headers.push((name, value));
        }
        Ok(Self {
            status,
            headers,
            body: reader.0.to_vec(),
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MalformedResponse> {
        if self.0.len() < n {
            return Err(MalformedResponse);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MalformedResponse> {
        self.take(N)?.try_into().map_err(|_| MalformedResponse)
    }

    fn text(&mut self, n: usize) -> Result<String, MalformedResponse> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| MalformedResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip_byte_for_byte() {
        let response = RecordedResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("etag".into(), "\"1\"".into()),
            ],
            body: b"{\"id\":\"x\",\"bytes\":\"\x00\xff\"}".to_vec(),
        };
        assert_eq!(RecordedResponse::decode(&response.encode()), Ok(response));
        let empty = RecordedResponse {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        };
        assert_eq!(RecordedResponse::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn truncated_or_foreign_bytes_are_refused() {
        let encoded = RecordedResponse {
            status: 200,
            headers: vec![("etag".into(), "\"3\"".into())],
            body: b"{}".to_vec(),
        }
        .encode();
        for cut in 0..8 {
            assert_eq!(
                RecordedResponse::decode(&encoded[..cut]),
                Err(MalformedResponse)
            );
        }
        assert_eq!(RecordedResponse::decode(b"\x02abc"), Err(MalformedResponse));
    }

    #[test]
    fn bodies_do_not_print() {
        let response = RecordedResponse {
            status: 201,
            headers: Vec::new(),
            body: b"refresh-token-value".to_vec(),
        };
        assert!(!format!("{response:?}").contains("refresh"));
    }
}
