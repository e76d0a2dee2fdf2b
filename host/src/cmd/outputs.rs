//! Output planning and atomic writes for every subcommand.
//!
//! A command first declares every file it reads ([`Plan::input`]) and every
//! file it will write ([`Plan::output`]), then calls [`Plan::check`] before
//! any long work. The check refuses, naming the flag and the path:
//! an output that is also an input or another output (after resolving
//! `..`, symbolic links and hard links), an output whose folder is missing,
//! not a folder or not writable, and an output that exists as a symbolic
//! link, a folder, a FIFO or another special file (onespike only ever
//! replaces regular files).
//!
//! Writes go through [`Staged`]: each file is written completely to a
//! temporary file in its own folder (synced to disk), and only when every
//! output of the command is ready are they all renamed into place, in one
//! short step at the very end. A failure before that leaves every file of
//! the user as it was and removes the temporaries (they are deleted when
//! dropped, also on an early return).

use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// One declared path: the flag that named it and where it resolves to.
struct Entry {
    flag: String,
    path: PathBuf,
    resolved: PathBuf,
    /// (device, inode) of an existing file: catches hard links.
    id: Option<(u64, u64)>,
}

/// Every input and output path of one command.
#[derive(Default)]
pub struct Plan {
    inputs: Vec<Entry>,
    outputs: Vec<Entry>,
}

/// `path` with its folder resolved (`..`, links) when that folder exists.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = folder_of(path);
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// The folder a file path lives in (`.` for a bare name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn entry(flag: &str, path: &Path) -> Entry {
    Entry {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        resolved: resolve(path),
        id: file_id(path),
    }
}

/// What kind of thing exists at `path`, if it is not something onespike
/// may replace (a regular file) or create (nothing).
fn not_replaceable(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_symlink() {
        Some("a symbolic link (onespike does not replace links: name the file it points to, or remove the link)")
    } else if t.is_dir() {
        Some("a folder, not a file")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe), not a regular file")
    } else if t.is_socket() {
        Some("a socket, not a regular file")
    } else {
        Some("a device or other special file, not a regular file")
    }
}

/// Refuses a folder that is missing, not a folder, or not writable (tried
/// by creating and removing a temporary file in it).
pub fn check_writable_folder(flag: &str, file: &Path, dir: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(dir) {
        Err(_) => bail!(
            "{flag} {}: the folder {} does not exist (create it first)",
            file.display(),
            dir.display()
        ),
        Ok(m) if !m.is_dir() => bail!(
            "{flag} {}: {} is not a folder",
            file.display(),
            dir.display()
        ),
        Ok(_) => {}
    }
    tempfile::Builder::new()
        .prefix(".onespike-probe")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "{flag} {}: cannot write into the folder {}",
                file.display(),
                dir.display()
            )
        })?;
    Ok(())
}

impl Plan {
    pub fn new() -> Plan {
        Plan::default()
    }

    /// Declares a file the command reads (named by `flag`).
    pub fn input(&mut self, flag: &str, path: &Path) -> &mut Plan {
        self.inputs.push(entry(flag, path));
        self
    }

    /// Declares a file the command writes (named by `flag`).
    pub fn output(&mut self, flag: &str, path: &Path) -> &mut Plan {
        self.outputs.push(entry(flag, path));
        self
    }

    /// Declares a file the command reads when it is given.
    pub fn input_opt(&mut self, flag: &str, path: Option<&Path>) -> &mut Plan {
        if let Some(p) = path {
            self.input(flag, p);
        }
        self
    }

    /// Declares a file the command writes when it is given.
    pub fn output_opt(&mut self, flag: &str, path: Option<&Path>) -> &mut Plan {
        if let Some(p) = path {
            self.output(flag, p);
        }
        self
    }

    /// Checks every declared output (see the module documentation).
    pub fn check(&self) -> anyhow::Result<()> {
        let same =
            |a: &Entry, b: &Entry| a.resolved == b.resolved || (a.id.is_some() && a.id == b.id);
        for (k, out) in self.outputs.iter().enumerate() {
            if let Some(inp) = self.inputs.iter().find(|i| same(i, out)) {
                bail!(
                    "{} {} is also the input {} {}: writing it would destroy the input (choose another output path)",
                    out.flag,
                    out.path.display(),
                    inp.flag,
                    inp.path.display()
                );
            }
            if let Some(other) = self.outputs[..k].iter().find(|o| same(o, out)) {
                bail!(
                    "{} {} and {} {} are the same file: one output would overwrite the other (give them different paths)",
                    other.flag,
                    other.path.display(),
                    out.flag,
                    out.path.display()
                );
            }
            if let Some(what) = not_replaceable(&out.path) {
                bail!("{} {}: the path is {what}", out.flag, out.path.display());
            }
            let text = out.path.as_os_str().to_string_lossy();
            if out.path.file_name().is_none() || text.ends_with('/') {
                bail!(
                    "{} {}: names a folder, not a file (give a file name)",
                    out.flag,
                    out.path.display()
                );
            }
            check_writable_folder(&out.flag, &out.path, folder_of(&out.path))?;
        }
        Ok(())
    }
}

/// Checks an output folder (`flag dir`) before any work: it must be a
/// folder (or a link to one) that can be written, or be missing with a
/// writable folder above it.
pub fn check_folder(flag: &str, dir: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => check_writable_folder(flag, dir, dir),
        Ok(_) => bail!("{flag} {}: exists and is not a folder", dir.display()),
        Err(_) => check_writable_folder(flag, dir, folder_of(dir)),
    }
}

/// Checks an output folder (`flag dir`) and the `files` a command will
/// write into it against its `inputs` (flag, path), before any work.
pub fn check_folder_files(
    flag: &str,
    dir: &Path,
    files: &[&str],
    inputs: &[(&str, &Path)],
) -> anyhow::Result<()> {
    check_folder(flag, dir)?;
    if !dir.is_dir() {
        return Ok(()); // created empty: nothing in it can be an input
    }
    let mut plan = Plan::new();
    for (f, p) in inputs {
        plan.input(f, p);
    }
    for f in files {
        plan.output(flag, &dir.join(f));
    }
    plan.check()
}

/// Creates `dir` if missing, lets `stage` stage files into it, then
/// commits them (naming each); on failure, a folder it created is removed.
pub fn write_folder<F>(flag: &str, dir: &Path, stage: F) -> anyhow::Result<Vec<PathBuf>>
where
    F: FnOnce(&mut Staged) -> anyhow::Result<()>,
{
    let folder = NewFolder::create(flag, dir)?;
    let mut out = Staged::new();
    stage(&mut out)?;
    let written = out.commit_and_say()?;
    folder.keep();
    Ok(written)
}

/// An output folder this command may have created: removed again, if it
/// created it, unless [`NewFolder::keep`] is called (the command succeeded).
pub struct NewFolder {
    dir: PathBuf,
    created: bool,
}

impl NewFolder {
    /// Creates `dir` (and nothing above it) when it is missing.
    pub fn create(flag: &str, dir: &Path) -> anyhow::Result<NewFolder> {
        let created = !dir.exists();
        if created {
            std::fs::create_dir(dir)
                .with_context(|| format!("{flag} {}: creating the folder", dir.display()))?;
        }
        Ok(NewFolder {
            dir: dir.to_path_buf(),
            created,
        })
    }

    pub fn keep(mut self) {
        self.created = false;
    }
}

impl Drop for NewFolder {
    fn drop(&mut self) {
        if self.created {
            // Only if empty: the staged temporaries are gone by now.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Outputs written to temporary files, renamed into place by [`Staged::commit`].
#[derive(Default)]
pub struct Staged {
    files: Vec<(PathBuf, NamedTempFile)>,
}

impl Staged {
    pub fn new() -> Staged {
        Staged::default()
    }

    fn temp_for(path: &Path) -> anyhow::Result<NamedTempFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A file as `File::create` makes it (0666 less the umask), not the
        // owner-only mode of a temporary.
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(folder_of(path))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Stages `bytes` as the future content of `path`.
    pub fn bytes(&mut self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        let mut tmp = Self::temp_for(path)?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.as_file().sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        self.files.push((path.to_path_buf(), tmp));
        Ok(())
    }

    /// Stages compact JSON (as the loaders read it) for `path`.
    pub fn json<T: serde::Serialize>(&mut self, path: &Path, value: &T) -> anyhow::Result<()> {
        let bytes =
            serde_json::to_vec(value).with_context(|| format!("serializing {}", path.display()))?;
        self.bytes(path, &bytes)
    }

    /// Stages pretty JSON for `path` (reports meant to be read).
    pub fn pretty_json<T: serde::Serialize>(
        &mut self,
        path: &Path,
        value: &T,
    ) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(value)
            .with_context(|| format!("serializing {}", path.display()))?;
        self.bytes(path, &bytes)
    }

    /// Stages the file that `write` creates at the path it is given (for
    /// writers that only take a path).
    pub fn with<F>(&mut self, path: &Path, write: F) -> anyhow::Result<()>
    where
        F: FnOnce(&Path) -> anyhow::Result<()>,
    {
        let tmp = Self::temp_for(path)?;
        write(tmp.path()).with_context(|| format!("writing {}", path.display()))?;
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("writing {}", path.display()))?;
        self.files.push((path.to_path_buf(), tmp));
        Ok(())
    }

    /// Renames every staged file into place (refusing, at the last moment,
    /// a path that has become a link or a special file) and returns the
    /// paths written.
    pub fn commit(self) -> anyhow::Result<Vec<PathBuf>> {
        for (path, _) in &self.files {
            if let Some(what) = not_replaceable(path) {
                bail!("{}: the path is {what}", path.display());
            }
        }
        let mut written = Vec::with_capacity(self.files.len());
        for (path, tmp) in self.files {
            tmp.persist(&path)
                .map_err(|e| e.error)
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }

    /// [`Staged::commit`], then one `wrote <path>` line per file.
    pub fn commit_and_say(self) -> anyhow::Result<Vec<PathBuf>> {
        let written = self.commit()?;
        for p in &written {
            println!("wrote {}", p.display());
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_leaves_no_temporary_and_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old").unwrap();
        {
            let mut s = Staged::new();
            s.bytes(&path, b"new").unwrap();
            // Dropped without commit: the command failed.
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary was left behind");
        let mut s = Staged::new();
        s.bytes(&path, b"new").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn written_files_get_the_mode_of_a_created_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (staged, created) = (dir.path().join("a"), dir.path().join("b"));
        let mut s = Staged::new();
        s.bytes(&staged, b"x").unwrap();
        s.commit().unwrap();
        std::fs::write(&created, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&staged), mode(&created));
    }

    #[test]
    fn an_output_equal_to_an_input_through_dot_dot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let model = dir.path().join("m.json");
        std::fs::write(&model, "{}").unwrap();
        let mut plan = Plan::new();
        plan.input("--model", &model)
            .output("-o", &dir.path().join("sub/../m.json"));
        let e = plan.check().unwrap_err().to_string();
        assert!(e.contains("-o") && e.contains("--model"), "{e}");
    }

    #[test]
    fn a_hard_link_to_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.json");
        std::fs::write(&model, "{}").unwrap();
        let link = dir.path().join("alias.json");
        std::fs::hard_link(&model, &link).unwrap();
        let mut plan = Plan::new();
        plan.input("--model", &model).output("-o", &link);
        assert!(plan.check().is_err());
    }
}
