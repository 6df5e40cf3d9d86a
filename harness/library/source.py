"""Read the files of a skill library at a release: a folder as it is, or a git ref.

A git ref is read through plumbing (ls-tree, cat-file), never checked out. A bundle is
mirrored once into the cache, keyed by its sha256. No shell, refs validated, symlinks
never followed out of the library root.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.base.errors import HarnessError
from harness.library.findings import Finding

SKILL_FILE = "SKILL.md"
MANIFEST_DIRS = (".claude-plugin", ".codex-plugin", ".cursor-plugin", ".agents/plugins")
MANIFEST_NAMES = ("plugin.json", "marketplace.json")
REF_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/^~{}@+-]{0,254}$")
BUNDLE_MAGIC = (b"# v2 git bundle\n", b"# v3 git bundle\n")


@dataclass
class Snapshot:
    """The files of one library at one release that routing depends on."""

    source: str
    ref: str | None
    commit: str | None
    files: dict[str, bytes] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def skill_paths(self) -> list[str]:
        return sorted(p for p in self.files if posixpath.basename(p) == SKILL_FILE)

    @property
    def manifest_paths(self) -> list[str]:
        return sorted(p for p in self.files if is_manifest(p))

    @property
    def content_sha256(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            h.update(path.encode() + b"\0" + hashlib.sha256(self.files[path]).hexdigest().encode() + b"\n")
        return h.hexdigest()


def is_manifest(path: str) -> bool:
    head, name = posixpath.split(path)
    return name in MANIFEST_NAMES and any(head == d or head.endswith("/" + d) for d in MANIFEST_DIRS)


def wanted(path: str) -> bool:
    return posixpath.basename(path) == SKILL_FILE or is_manifest(path)


def split_spec(spec: str) -> tuple[str, str | None]:
    """`SRC[@REF]`: a path that exists as given wins over an `@` inside it."""
    if os.path.exists(spec) or "@" not in spec:
        return spec, None
    src, ref = spec.rsplit("@", 1)
    if not ref:
        raise HarnessError(f"--library {spec!r}: empty ref after '@'")
    return src, ref


def validate_ref(ref: str) -> str:
    if ref.startswith("-") or not REF_OK.match(ref) or ".." in ref:
        raise HarnessError(f"invalid git ref {ref!r}: use a tag, branch or commit id (no leading '-', spaces or shell characters)")
    return ref


def run_git(repo: str, *args: str, data: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    cmd = ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-C", repo, *args]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=300)
    except FileNotFoundError as exc:
        raise HarnessError("git is not installed: it is needed to read a library at a ref") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HarnessError(f"git {args[0]} failed in {repo}: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc


def _is_bundle(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) in BUNDLE_MAGIC
    except OSError:
        return False


def _mirror_bundle(bundle: str, cache_dir: Path) -> str:
    h = hashlib.sha256()
    with open(bundle, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    target = cache_dir / "git" / f"{h.hexdigest()}.git"
    if (target / "HEAD").exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".bundle-", dir=target.parent)
    try:
        proc = run_git(str(target.parent), "clone", "--quiet", "--mirror", "--", os.path.abspath(bundle), tmp, check=False)
        if proc.returncode != 0:
            raise HarnessError(f"{bundle}: not a readable git bundle ({proc.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:]})")
        try:
            os.rename(tmp, target)
        except OSError:  # another process won the race: theirs is as good as ours
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def repository(src: str, cache_dir: Path) -> str:
    """The git repository behind a source: a bundle's mirror in the cache, or the folder."""
    return _mirror_bundle(src, cache_dir) if _is_bundle(src) else src


def snapshot(spec: str, cache_dir: Path, max_file_bytes: int = 1 << 20) -> Snapshot:
    src, ref = split_spec(spec)
    if not os.path.exists(src):
        raise HarnessError(f"--library {src}: no such file or folder")
    if os.path.isfile(src):
        if not _is_bundle(src):
            raise HarnessError(f"--library {src}: a file that is not a git bundle")
        repo = _mirror_bundle(src, cache_dir)
        return _read_git(src, repo, ref or "HEAD", max_file_bytes)
    if ref is None:
        return _read_folder(src, src, max_file_bytes)
    inside = run_git(src, "rev-parse", "--show-prefix", check=False)
    if inside.returncode != 0:
        raise HarnessError(f"--library {spec}: {src} is not a git repository, so it has no ref {ref!r}")
    return _read_git(src, src, ref, max_file_bytes, inside.stdout.decode().strip())


def resolve_commit(repo: str, ref: str, shown: str | None = None) -> str:
    """`shown`: the source as the user named it (a bundle's path, not the cache's mirror of it)."""
    validate_ref(ref)
    proc = run_git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise HarnessError(f"unknown ref {ref!r} in {shown or repo}: no tag, branch or commit of that name")
    return proc.stdout.decode().strip()


def _read_git(spec: str, repo: str, ref: str, limit: int, prefix: str = "") -> Snapshot:
    """Files of `ref`; with a prefix (a subfolder of the repository), only those below it."""
    commit = resolve_commit(repo, ref, spec)
    snap = Snapshot(spec, ref, commit)
    out = run_git(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", commit).stdout
    entries: dict[str, tuple[str, str, int]] = {}
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, raw = rec.split(b"\t", 1)
        mode, kind, sha, size = meta.decode().split()
        path = raw.decode("utf-8", "surrogateescape")
        if path.startswith(prefix):
            entries[path[len(prefix):]] = (mode, sha, int(size) if size.isdigit() else 0)
    reads: dict[str, str] = {}
    for path, (mode, sha, size) in sorted(entries.items()):
        parts = path.split("/")
        if SKILL_FILE in parts[:-1]:
            folder = "/".join(parts[: parts.index(SKILL_FILE) + 1])
            snap.findings.append(Finding(folder, 0, "not-a-file", "warning", "a folder named SKILL.md: skipped"))
            continue
        if not wanted(path):
            continue
        if mode == "120000":
            target = run_git(repo, "cat-file", "blob", sha).stdout.decode("utf-8", "replace")
            real = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target.startswith("/") or real.startswith("../") or real == "..":
                snap.findings.append(Finding(path, 0, "symlink-outside-root", "error", f"symlink to {target!r} leaves the library root: not followed"))
                continue
            if real not in entries or entries[real][0] == "120000":
                snap.findings.append(Finding(path, 0, "broken-symlink", "error", f"symlink to {target!r} does not resolve to a file of the library"))
                continue
            mode, sha, size = entries[real]
        if not mode.startswith("100"):
            continue
        if size > limit:
            snap.findings.append(Finding(path, 0, "file-too-large", "error", f"{size} bytes, over the {limit}-byte limit (--max-skill-bytes): not read"))
            continue
        reads[path] = sha
    for path, data in zip(reads, _cat_blobs(repo, list(reads.values()))):
        snap.files[path] = data
    return snap


def _cat_blobs(repo: str, shas: list[str]) -> list[bytes]:
    if not shas:
        return []
    out = run_git(repo, "cat-file", "--batch", data="".join(s + "\n" for s in shas).encode()).stdout
    blobs, pos = [], 0
    for _ in shas:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        blobs.append(out[nl + 1: nl + 1 + size])
        pos = nl + 1 + size + 1
    return blobs


def _read_folder(spec: str, folder: str, limit: int) -> Snapshot:
    root = os.path.realpath(folder)
    snap = Snapshot(spec, None, None)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        rel_dir = os.path.relpath(dirpath, root)
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            rel = posixpath.normpath(posixpath.join(rel_dir.replace(os.sep, "/"), d))
            if os.path.islink(full):
                dirnames.remove(d)
                real = os.path.realpath(full)
                where = "leaves the library root" if os.path.commonpath([root, real]) != root else "is a symlink"
                snap.findings.append(Finding(rel, 0, "symlink-not-followed", "warning", f"folder {where}: not followed"))
            elif d == SKILL_FILE:
                snap.findings.append(Finding(rel, 0, "not-a-file", "warning", "a folder named SKILL.md: skipped"))
        for name in sorted(filenames):
            rel = posixpath.normpath(posixpath.join(rel_dir.replace(os.sep, "/"), name))
            if not wanted(rel):
                continue
            data = _read_one(os.path.join(dirpath, name), rel, root, limit, snap.findings)
            if data is not None:
                snap.files[rel] = data
    return snap


def _read_one(full: str, rel: str, root: str, limit: int, findings: list[Finding]) -> bytes | None:
    try:
        real = os.path.realpath(full, strict=True)
    except (OSError, RuntimeError):
        findings.append(Finding(rel, 0, "broken-symlink", "error", "symlink that does not resolve (missing target or a loop): skipped"))
        return None
    if os.path.commonpath([root, real]) != root:
        findings.append(Finding(rel, 0, "symlink-outside-root", "error", "symlink that leaves the library root: not followed"))
        return None
    try:
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            findings.append(Finding(rel, 0, "not-a-file", "error", "not a regular file (FIFO, device or socket): skipped"))
            return None
        if st.st_size > limit:
            findings.append(Finding(rel, 0, "file-too-large", "error", f"{st.st_size} bytes, over the {limit}-byte limit (--max-skill-bytes): not read"))
            return None
        with open(real, "rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as exc:
        findings.append(Finding(rel, 0, "unreadable", "error", f"cannot read: {exc.strerror}"))
        return None
