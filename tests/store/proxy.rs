//! A TCP proxy between a store and PostgreSQL that a test can cut and restore: while cut it
//! closes every relayed connection and hangs up on new ones, like a database that went away.
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    address: SocketAddr,
    /// (up, generation): cutting bumps the generation, which ends every live relay.
    state: watch::Sender<(bool, u64)>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let address = listener.local_addr().expect("proxy address");
        let (state, _) = watch::channel((true, 0));
        let states = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (up, generation) = *states.borrow();
                if !up {
                    drop(client);
                    continue;
                }
                tokio::spawn(relay(
                    client,
                    target.clone(),
                    states.subscribe(),
                    generation,
                ));
            }
        });
        Proxy {
            address,
            state,
            task,
        }
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).expect("a URL");
        parsed.set_host(Some("127.0.0.1")).expect("a host");
        parsed.set_port(Some(self.address.port())).expect("a port");
        parsed.to_string()
    }

    pub fn cut(&self) {
        self.state.send_modify(|(up, generation)| {
            *up = false;
            *generation += 1;
        });
    }

    pub fn restore(&self) {
        self.state.send_modify(|(up, _)| *up = true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// `host:port` of a postgres URL.
pub fn target_of(url: &str) -> String {
    let parsed = url::Url::parse(url).expect("a URL");
    format!(
        "{}:{}",
        parsed.host_str().expect("a host"),
        parsed.port().unwrap_or(5432)
    )
}

async fn relay(
    mut client: TcpStream,
    target: String,
    mut state: watch::Receiver<(bool, u64)>,
    generation: u64,
) {
    let Ok(mut server) = TcpStream::connect(&target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = state.wait_for(|(_, current)| *current != generation) => {}
    }
}
