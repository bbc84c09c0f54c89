//! JSON log lines for CloudWatch: one object per line, no ANSI colours, the invocation's request
//! id (from the runtime's span) on every line written while handling it.

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Install the JSON subscriber. The levels come from `RUST_LOG` (`info`, or per target:
/// `aws_smithy_runtime=debug,info`), else from `AWS_LAMBDA_LOG_LEVEL` (what the function's
/// `LoggingConfig.ApplicationLogLevel` sets), else `info`. Calling it twice is harmless.
///
/// A `Targets` filter rather than `EnvFilter`: the same directives without span and field
/// filters, and without the regular-expression engine, which added 0.4 MB to every function.
pub fn init_json_logs() {
    let from_lambda = || {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .map(|level| lambda_level(&level))
            .unwrap_or("info");
        level
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO))
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(from_lambda);
    let _ = tracing_subscriber::registry()
        .with(json_layer(std::io::stdout))
        .with(filter)
        .try_init();
}

/// The format of every line: one JSON object, the event's fields under `fields` (what the
/// metric filters of `template.yaml` match, e.g. `$.fields.outcome`). Public so that tests can
/// check those filters against lines written exactly like this.
pub fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_ansi(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_writer(writer)
}

/// Lambda's level names (`TRACE` … `FATAL`) as `tracing` filter directives.
fn lambda_level(level: &str) -> &'static str {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::lambda_level;

    #[test]
    fn lambda_log_levels_map_to_tracing_levels() {
        assert_eq!(lambda_level("DEBUG"), "debug");
        assert_eq!(lambda_level("FATAL"), "error");
        assert_eq!(lambda_level("nonsense"), "info");
    }
}
