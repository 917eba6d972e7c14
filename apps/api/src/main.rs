use std::process::ExitCode;

use aura_api::{Application, Settings, init_tracing};

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--health-check") {
        return health_check();
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(problems) => {
            eprintln!("aura-api: invalid configuration:");
            for problem in problems {
                eprintln!("  - {problem}");
            }
            return ExitCode::from(2);
        }
    };
    let telemetry = match init_tracing(settings.log_format, &settings.observability) {
        Ok(telemetry) => telemetry,
        Err(problem) => {
            eprintln!("aura-api: invalid configuration:\n  - {problem}");
            return ExitCode::from(2);
        }
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "aura-api could not start");
            eprintln!("aura-api: {error}");
            telemetry.shutdown().await;
            return ExitCode::from(1);
        }
    };
    let code = match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped with an error");
            ExitCode::from(1)
        }
    };
    // Send the spans still buffered (the last requests before the stop).
    telemetry.shutdown().await;
    code
}

/// For container health checks: asks the local instance's `/health` (no HTTP client
/// needed in the image). Exit 0 when it answers 200.
fn health_check() -> ExitCode {
    use std::{
        io::{Read, Write},
        net::{SocketAddr, TcpStream},
        time::Duration,
    };
    let bind = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let Ok(mut addr) = bind.parse::<SocketAddr>() else {
        return ExitCode::from(1);
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(status) if status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(1),
    }
}
