//! Webhook secrets for a local run: generated once per data directory, so that a new user can
//! start the server and replay signed sample events without inventing secrets. Environment
//! variables always win; nothing here is used when they are set.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "dev-secrets.env";

/// The secret variables a local run fills in when the environment does not.
pub const SECRET_VARS: [&str; 3] = [
    "ZENDESK_WEBHOOK_SECRET",
    "INTERCOM_CLIENT_SECRET",
    "TWILIO_AUTH_TOKEN",
];

#[derive(Clone, Default)]
pub struct DevSecrets {
    values: BTreeMap<String, String>,
    path: PathBuf,
}

impl std::fmt::Debug for DevSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevSecrets")
            .field("path", &self.path)
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DevSecrets {
    /// Read `<dir>/dev-secrets.env`, creating it (mode 0600) with random secrets if missing.
    pub fn load_or_create(dir: &Path) -> io::Result<Self> {
        let path = dir.join(FILE_NAME);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Self {
                values: parse(&text),
                path,
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let mut values = BTreeMap::new();
                for name in SECRET_VARS {
                    values.insert(name.to_owned(), random_hex(32)?);
                }
                fs::create_dir_all(dir)?;
                write_private(&path, &render(&values))?;
                Ok(Self { values, path })
            }
            Err(error) => Err(error),
        }
    }

    /// Read an existing file only (for `supportctl replay`).
    pub fn load(dir: &Path) -> io::Result<Self> {
        let path = dir.join(FILE_NAME);
        let text = fs::read_to_string(&path)?;
        Ok(Self {
            values: parse(&text),
            path,
        })
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

fn render(values: &BTreeMap<String, String>) -> String {
    let mut text = String::from(
        "# Webhook secrets of this local data directory (generated; not for production).\n",
    );
    for (name, value) in values {
        text.push_str(&format!("{name}={value}\n"));
    }
    text
}

fn random_hex(bytes: usize) -> io::Result<String> {
    let mut buffer = vec![0u8; bytes];
    fs::File::open("/dev/urandom")?.read_exact(&mut buffer)?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_created_once_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let first = DevSecrets::load_or_create(dir.path()).unwrap();
        let second = DevSecrets::load_or_create(dir.path()).unwrap();
        for name in SECRET_VARS {
            let value = first.get(name).unwrap();
            assert_eq!(value.len(), 64);
            assert_eq!(second.get(name), Some(value));
        }
        assert!(!format!("{first:?}").contains(&first.get(SECRET_VARS[0]).unwrap()));
    }
}
