//! A PostgreSQL cluster of a test's own: initdb into a temporary directory, its own port
//! and socket (the shared server is never touched), started with pg_ctl from the server
//! binaries `pg_config --bindir` names. Stopped and removed on drop (also on panic).
//! Used by tests/fault.rs (stopped and started under load) and tests/db_tls.rs (TLS).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::PathBuf,
    process::{Command as StdCommand, Stdio},
};

pub struct Cluster {
    pub dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// A new cluster, started.
    pub fn create() -> Self {
        let cluster = Self::init();
        cluster.start();
        cluster
    }

    /// A new cluster, not started yet (configure it with [`Cluster::write_data_file`]).
    pub fn init() -> Self {
        let bindir = StdCommand::new("pg_config")
            .arg("--bindir")
            .output()
            .expect("pg_config on PATH (the PostgreSQL server binaries are needed)");
        let bin = PathBuf::from(String::from_utf8(bindir.stdout).unwrap().trim());
        assert!(
            bin.join("initdb").exists(),
            "no initdb in {}",
            bin.display()
        );
        let uid = StdCommand::new("id").arg("-u").output().unwrap();
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = std::env::temp_dir().join(format!("aura-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sock")).unwrap();
        let cluster = Self {
            port: free_port(),
            dir,
            bin,
            as_postgres,
        };
        if as_postgres {
            // initdb and postgres refuse root: the cluster belongs to `postgres`.
            cluster.chown(&cluster.dir);
        }
        cluster.pg(
            "initdb",
            &[
                "-D",
                cluster.data().to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        cluster
    }

    fn chown(&self, path: &std::path::Path) {
        let status = StdCommand::new("chown")
            .args(["-R", "postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown of {}", path.display());
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes `name` in the data directory (mode 0600, owned by the server's user):
    /// a key, a certificate, `pg_hba.conf`. `append` adds to the file instead.
    pub fn write_data_file(&self, name: &str, contents: &str, append: bool) {
        use std::{io::Write, os::unix::fs::PermissionsExt};
        let path = self.data().join(name);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&path)
            .unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if self.as_postgres {
            self.chown(&path);
        }
    }

    pub fn superuser_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs a server program (as `postgres` when we are root); panics when it fails.
    fn pg(&self, program: &str, args: &[&str]) {
        let status = self.command(program, args).status().unwrap();
        assert!(status.success(), "{program} {args:?} failed");
    }

    fn command(&self, program: &str, args: &[&str]) -> StdCommand {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = StdCommand::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            StdCommand::new(program)
        };
        command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data();
        let log = self.dir.join("postgres.log");
        let mut all = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap()];
        all.extend_from_slice(args);
        self.pg("pg_ctl", &all);
    }

    pub fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.join("sock").display()
        );
        self.pg_ctl(&["-o", &options, "-w", "start"]);
    }

    pub fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let data = self.data();
            let _ = self
                .command(
                    "pg_ctl",
                    &[
                        "-D",
                        data.to_str().unwrap(),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                )
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
