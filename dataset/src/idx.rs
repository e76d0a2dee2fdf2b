//! Datasets: IDX files (MNIST, Fashion-MNIST), gzipped or plain, and the
//! small MNIST subset embedded in the binary as the default dataset.
//!
//! An IDX file is a big-endian header (magic, then one `u32` per
//! dimension) followed by `u8` payload. Every malformed input (wrong magic,
//! truncated payload, trailing bytes, broken gzip, image and label counts
//! that disagree) is an [`IdxError`] naming the file.

use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// IDX magic of a `u8` image file with 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// IDX magic of a `u8` label file with 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    #[error("{dir}: no {what} file (looked for {tried})")]
    Missing {
        dir: String,
        what: String,
        tried: String,
    },
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        images: String,
        n_images: usize,
        labels: String,
        n_labels: usize,
    },
}

/// Images (row-major `u8` pixels) with their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Pixels per image.
    pub fn image_size(&self) -> usize {
        self.rows * self.cols
    }
    /// The pixels of image `k`.
    pub fn image(&self, k: usize) -> &[u8] {
        let n = self.image_size();
        &self.pixels[k * n..(k + 1) * n]
    }
    /// The first `n` examples (all of them if there are fewer).
    pub fn take(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[..n * self.image_size()].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }
    /// The last `n` examples (all of them if there are fewer).
    /// Images `first .. first + n` (clamped to the split).
    pub fn range(&self, first: usize, n: usize) -> Split {
        let first = first.min(self.len());
        let end = first.saturating_add(n).min(self.len());
        let size = self.image_size();
        Split {
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[first * size..end * size].to_vec(),
            labels: self.labels[first..end].to_vec(),
        }
    }

    pub fn last(&self, n: usize) -> Split {
        let k = self.len() - n.min(self.len());
        Split {
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[k * self.image_size()..].to_vec(),
            labels: self.labels[k..].to_vec(),
        }
    }
}

/// A dataset: training and test splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Where it came from, for reports.
    pub name: String,
    pub train: Split,
    pub test: Split,
}

/// Largest IDX file (after gzip) the loader reads: 60 000 MNIST training
/// images are 47 MB; a file beyond this is refused before it is read or
/// decompressed into memory.
pub const MAX_IDX_BYTES: u64 = 1 << 31;

/// Undoes gzip when the bytes start with the gzip magic (every member of a
/// multi-member file, as `cat a.gz b.gz` makes), refusing output beyond
/// [`MAX_IDX_BYTES`].
fn maybe_gunzip(bytes: Vec<u8>, file: &str) -> Result<Vec<u8>, IdxError> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        MultiGzDecoder::new(&bytes[..])
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| IdxError::Malformed {
                file: file.into(),
                message: format!("broken gzip stream: {e}"),
            })?;
        if out.len() as u64 > MAX_IDX_BYTES {
            return Err(IdxError::Malformed {
                file: file.into(),
                message: format!(
                    "decompresses to more than {MAX_IDX_BYTES} bytes, the largest IDX file onespike reads"
                ),
            });
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Parses an IDX byte buffer: returns its dimensions and payload.
pub fn parse_idx(bytes: &[u8], magic: u32, file: &str) -> Result<(Vec<usize>, Vec<u8>), IdxError> {
    let bad = |message: String| IdxError::Malformed {
        file: file.into(),
        message,
    };
    let word = |k: usize| -> Option<u32> {
        bytes
            .get(4 * k..4 * k + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let got = word(0).ok_or_else(|| {
        bad(format!(
            "{} bytes, too short for an IDX header",
            bytes.len()
        ))
    })?;
    if got != magic {
        return Err(bad(format!(
            "magic number is 0x{got:08x}, expected 0x{magic:08x}"
        )));
    }
    let n_dims = (magic & 0xff) as usize;
    let mut dims = Vec::with_capacity(n_dims);
    for k in 0..n_dims {
        let d = word(1 + k).ok_or_else(|| bad(format!("header truncated at dimension {k}")))?;
        dims.push(d as usize);
    }
    let header = 4 * (1 + n_dims);
    let want = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let have = bytes.len() - header;
    if have != want {
        return Err(bad(format!(
            "payload is {have} bytes, dimensions {dims:?} need {want} ({})",
            if have < want {
                "truncated"
            } else {
                "trailing bytes"
            }
        )));
    }
    Ok((dims, bytes[header..].to_vec()))
}

fn read_file(path: &Path) -> Result<Vec<u8>, IdxError> {
    let file = path.display().to_string();
    if let Ok(m) = std::fs::metadata(path) {
        if m.len() > MAX_IDX_BYTES {
            return Err(IdxError::Malformed {
                file,
                message: format!(
                    "is {} bytes, more than {MAX_IDX_BYTES}, the largest IDX file onespike reads",
                    m.len()
                ),
            });
        }
    }
    let bytes = std::fs::read(path).map_err(|source| IdxError::Io {
        file: file.clone(),
        source,
    })?;
    maybe_gunzip(bytes, &file)
}

/// Builds a split from image and label IDX bytes (gzipped or not).
pub fn split_from_bytes(
    images: Vec<u8>,
    images_name: &str,
    labels: Vec<u8>,
    labels_name: &str,
) -> Result<Split, IdxError> {
    let images = maybe_gunzip(images, images_name)?;
    let labels = maybe_gunzip(labels, labels_name)?;
    let (idims, pixels) = parse_idx(&images, IMAGES_MAGIC, images_name)?;
    let (ldims, labels) = parse_idx(&labels, LABELS_MAGIC, labels_name)?;
    if idims[0] != ldims[0] {
        return Err(IdxError::CountMismatch {
            images: images_name.into(),
            n_images: idims[0],
            labels: labels_name.into(),
            n_labels: ldims[0],
        });
    }
    if let Some(k) = labels.iter().position(|&l| l > 9) {
        return Err(IdxError::Malformed {
            file: labels_name.into(),
            message: format!("label {k} is {}, expected 0..=9", labels[k]),
        });
    }
    Ok(Split {
        rows: idims[1],
        cols: idims[2],
        pixels,
        labels,
    })
}

/// Finds `<prefix>-<kind>-idx?-ubyte[.gz]` (also the `.idx` dot spelling) in `dir`.
fn find(dir: &Path, prefix: &str, kind: &str, dims: u32) -> Result<PathBuf, IdxError> {
    let names = [
        format!("{prefix}-{kind}-idx{dims}-ubyte.gz"),
        format!("{prefix}-{kind}-idx{dims}-ubyte"),
        format!("{prefix}-{kind}.idx{dims}-ubyte.gz"),
        format!("{prefix}-{kind}.idx{dims}-ubyte"),
    ];
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| IdxError::Missing {
            dir: dir.display().to_string(),
            what: format!("{prefix} {kind}"),
            tried: names.join(", "),
        })
}

fn load_split(dir: &Path, prefix: &str) -> Result<Split, IdxError> {
    let ip = find(dir, prefix, "images", 3)?;
    let lp = find(dir, prefix, "labels", 1)?;
    split_from_bytes(
        read_file(&ip)?,
        &ip.display().to_string(),
        read_file(&lp)?,
        &lp.display().to_string(),
    )
}

/// Loads `train-*` and `t10k-*` IDX files from a directory.
pub fn load_dir(dir: &Path) -> Result<Dataset, IdxError> {
    Ok(Dataset {
        name: dir.display().to_string(),
        train: load_split(dir, "train")?,
        test: load_split(dir, "t10k")?,
    })
}

/// The MNIST subset shipped in the binary: the first 6000 training and the
/// first 1000 test images of MNIST (LeCun, Cortes, Burges; see
/// `data/mnist-subset/README.md`).
pub fn embedded_default() -> Dataset {
    const TRAIN_IMAGES: &[u8] =
        include_bytes!("../../data/mnist-subset/train-images-idx3-ubyte.gz");
    const TRAIN_LABELS: &[u8] =
        include_bytes!("../../data/mnist-subset/train-labels-idx1-ubyte.gz");
    const TEST_IMAGES: &[u8] = include_bytes!("../../data/mnist-subset/t10k-images-idx3-ubyte.gz");
    const TEST_LABELS: &[u8] = include_bytes!("../../data/mnist-subset/t10k-labels-idx1-ubyte.gz");
    let split = |i: &[u8], l: &[u8], what| {
        split_from_bytes(i.to_vec(), what, l.to_vec(), what)
            .expect("the embedded subset is well-formed (checked by a test)")
    };
    Dataset {
        name: "default (embedded MNIST subset)".into(),
        train: split(TRAIN_IMAGES, TRAIN_LABELS, "embedded train"),
        test: split(TEST_IMAGES, TEST_LABELS, "embedded t10k"),
    }
}

/// `default` for the embedded subset, otherwise a directory of IDX files.
pub fn load(spec: &str) -> Result<Dataset, IdxError> {
    let dir = Path::new(spec);
    if spec == "default" {
        Ok(embedded_default())
    } else if dir.exists() && !dir.is_dir() {
        Err(IdxError::Malformed {
            file: spec.into(),
            message: "is a file; --data takes `default` or a folder of IDX files (train-images-idx3-ubyte[.gz], ...)".into(),
        })
    } else {
        load_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(payload);
        v
    }

    #[test]
    fn parses_a_tiny_image_file() {
        let b = idx(
            IMAGES_MAGIC,
            &[2, 2, 3],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        );
        let (dims, px) = parse_idx(&b, IMAGES_MAGIC, "x").unwrap();
        assert_eq!(dims, vec![2, 2, 3]);
        assert_eq!(px.len(), 12);
    }

    #[test]
    fn truncated_trailing_and_wrong_magic_are_errors() {
        let b = idx(IMAGES_MAGIC, &[2, 2, 3], &[0; 11]);
        let msg = parse_idx(&b, IMAGES_MAGIC, "imgs.idx")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("imgs.idx") && msg.contains("truncated"),
            "{msg}"
        );
        let b = idx(IMAGES_MAGIC, &[2, 2, 3], &[0; 13]);
        assert!(parse_idx(&b, IMAGES_MAGIC, "x")
            .unwrap_err()
            .to_string()
            .contains("trailing"));
        let b = idx(LABELS_MAGIC, &[2], &[0; 2]);
        assert!(parse_idx(&b, IMAGES_MAGIC, "x")
            .unwrap_err()
            .to_string()
            .contains("magic"));
        assert!(parse_idx(&[0, 0], IMAGES_MAGIC, "x").is_err());
        assert!(parse_idx(&idx(IMAGES_MAGIC, &[2], &[]), IMAGES_MAGIC, "x").is_err());
    }

    #[test]
    fn broken_gzip_is_an_error_not_a_panic() {
        let e = maybe_gunzip(vec![0x1f, 0x8b, 8, 0, 1, 2, 3], "bad.gz").unwrap_err();
        assert!(e.to_string().contains("bad.gz"));
    }

    #[test]
    fn a_multi_member_gzip_file_reads_as_its_concatenation() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let b = idx(IMAGES_MAGIC, &[2, 2, 3], &[7; 12]);
        let gz = |part: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(part).unwrap();
            e.finish().unwrap()
        };
        let mut cat = gz(&b[..9]);
        cat.extend(gz(&b[9..]));
        assert_eq!(maybe_gunzip(cat, "cat.gz").unwrap(), b);
    }

    #[test]
    fn count_mismatch_and_bad_labels_are_errors() {
        let i = idx(IMAGES_MAGIC, &[2, 1, 1], &[0, 0]);
        let l = idx(LABELS_MAGIC, &[3], &[0, 1, 2]);
        assert!(matches!(
            split_from_bytes(i.clone(), "i", l, "l"),
            Err(IdxError::CountMismatch { .. })
        ));
        let l = idx(LABELS_MAGIC, &[2], &[0, 12]);
        assert!(split_from_bytes(i, "i", l, "l")
            .unwrap_err()
            .to_string()
            .contains("label 1"));
    }

    #[test]
    fn embedded_subset_is_well_formed() {
        let d = embedded_default();
        assert_eq!(d.train.len(), 6000);
        assert_eq!(d.test.len(), 1000);
        assert_eq!((d.train.rows, d.train.cols), (28, 28));
        // All ten classes are present in both splits.
        for s in [&d.train, &d.test] {
            let mut seen = [false; 10];
            s.labels.iter().for_each(|&l| seen[l as usize] = true);
            assert!(seen.iter().all(|&x| x));
        }
    }

    #[test]
    fn missing_directory_names_what_it_looked_for() {
        let msg = load_dir(Path::new("/nonexistent/dir"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("/nonexistent/dir") && msg.contains("train-images-idx3-ubyte"),
            "{msg}"
        );
    }

    #[test]
    fn reads_the_shared_mnist_test_split_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
        if !dir.is_dir() {
            return;
        }
        let s = load_split(&dir, "t10k").unwrap();
        assert_eq!(s.len(), 10_000);
        // The embedded subset is the first 1000 of exactly this split.
        assert_eq!(embedded_default().test, s.take(1000));
    }
}
