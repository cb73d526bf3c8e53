//! `knock`: reads the configuration, opens the database and serves until SIGTERM or Ctrl-C.
//! `knock openapi` prints the REST API's OpenAPI document instead.

// Leptos view types nest deeply; the room page needs more than the default 128.
#![recursion_limit = "512"]

use app::ssr::{config::Config, state::AppState};
use leptos::config::get_configuration;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than the system's allocator: see the README's *Performance* (figure c).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        println!("{}", server::rest::openapi::document_json());
        return std::process::ExitCode::SUCCESS;
    }
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("knock: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    // Bind first: with port 0 the real address is only known now.
    let listener = tokio::net::TcpListener::bind(config.site_addr).await?;
    let config = config.bound_to(listener.local_addr()?);
    let mut leptos_options = get_configuration(None)?.leptos_options;
    leptos_options.site_addr = config.site_addr;
    // The error names the database by its URL, with the password redacted.
    let startup = AppState::start(config, leptos_options).await?;
    if let Some(key) = &startup.generated_api_key {
        // Printed to the terminal exactly once, on the start that generated it; never logged.
        println!(
            "\nKnock generated an API key and stored it in the database.\n\
             It will not be shown again; keep it somewhere safe:\n\n    {}\n",
            key.expose()
        );
    }

    tracing::info!(
        address = %startup.state.config.site_addr,
        public_url = %startup.state.config.public_url,
        "knock is listening"
    );
    server::serve(listener, startup.state, shutdown_signal()).await?;
    tracing::info!("knock stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
