//! Just enough HTTP/1.1 for the stand-ins written on raw TCP (they reset connections, hold them
//! without answering, or forward them, which the usual servers do not let a test do).

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One request with a `Content-Length` body (what the SDKs and notifiers send): its head
/// (request line and headers, without the blank line) and body. `buffer` carries bytes already
/// read past it to the next call on the same connection; `None` once the client closed it.
pub async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<(String, Vec<u8>)> {
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        read_more(stream, buffer).await?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end - 4]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        read_more(stream, buffer).await?;
    }
    let body = buffer[head_end..head_end + length].to_vec();
    buffer.drain(..head_end + length);
    Some((head, body))
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(read) => {
            buffer.extend_from_slice(&chunk[..read]);
            Some(())
        }
    }
}

/// The request line's target (`/v2/enqueue`) of a head read by [`read_request`].
pub fn request_path(head: &str) -> &str {
    head.split(' ').nth(1).unwrap_or("/")
}
