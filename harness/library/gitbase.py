"""What `check` measures an edit against: the library's folder, the git repository that holds
it, and each file's committed version (at a ref, or at the merge base of a branch).

Everything is read with git plumbing, never checked out; refs are validated first."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

from harness.base.errors import HarnessError
from harness.library.source import SKILL_FILE, resolve_commit, run_git, validate_ref

DEFAULT_BASES = ("origin/HEAD", "main", "master")  # `--changed` without `--since`, tried in this order


def repo_top(folder: Path) -> str | None:
    """The root of the git work tree that holds `folder`, or None outside git."""
    proc = run_git(str(folder), "rev-parse", "--show-toplevel", check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def library_root(path: Path, given: str | None) -> tuple[str, str]:
    """(library folder, the file's path inside it)."""
    if given:
        root = Path(given)
    else:
        top = repo_top(path.parent)
        if top is None:
            raise HarnessError(f"{path}: not inside a git repository: give --library FOLDER")
        root = Path(top)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise HarnessError(f"{path}: not inside the library {root}") from None
    return str(root), rel


@dataclass(frozen=True)
class Base:
    """What the edit is measured against: the file as git has it at `ref` (`data` None when git
    says the file is new there), or nothing at all (`ref` None: not in a git repository)."""
    ref: str | None
    data: bytes | None

    def state(self, data: bytes | None) -> str:
        if self.ref is None:
            return "no base"
        if data is None:
            return "deleted"
        return "new file" if self.data is None else ("unchanged" if self.data == data else "changed")


def find_base(path: Path, against: str | None) -> Base:
    """The committed version of `path` in the git repository that holds it (wherever the library
    sits inside that repository), at `against` (default HEAD). Outside any repository there is no
    base, unless `--against` asks for one (then that is an error)."""
    folder = str(path.resolve().parent)
    if against is not None:
        validate_ref(against)
    proc = run_git(folder, "rev-parse", "--show-prefix", check=False)
    if proc.returncode != 0:
        if against is not None:
            raise HarnessError(f"--against {against}: {path} is not inside a git repository")
        return Base(None, None)
    ref = against or "HEAD"
    if against is None and run_git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).returncode:
        return Base(ref, None)  # a repository with no commit yet: every file is new to git
    commit = resolve_commit(folder, ref)
    blob = run_git(folder, "cat-file", "blob", f"{commit}:{proc.stdout.decode().strip()}{path.name}", check=False)
    return Base(ref, blob.stdout if blob.returncode == 0 else None)


@dataclass(frozen=True)
class Changed:
    """One SKILL.md that differs between the merge base and the work tree (paths inside the library)."""
    status: str            # added, modified, renamed, deleted, untracked
    rel: str               # where it is now (a deleted file: where it was)
    base_rel: str | None   # where it was at the merge base (None: not there)


@dataclass(frozen=True)
class ChangeSet:
    top: str         # the repository's root
    prefix: str      # the library's folder inside it ('' or 'a/b/')
    since: str       # the ref given or found
    merge_base: str  # the commit the change is measured from
    files: list[Changed]


def _has_commit(top: str, ref: str) -> bool:
    return run_git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False).returncode == 0


def changed_files(library: str, since: str | None) -> ChangeSet:
    """Every SKILL.md under `library` added, modified, renamed, deleted or untracked between the
    merge base of `since` and HEAD and the work tree, in the repository that holds the library
    (`git diff --merge-base`, plus untracked files that are not ignored)."""
    top = repo_top(Path(library))
    if top is None:
        raise HarnessError(f"--changed: {library} is not inside a git repository")
    prefix = run_git(library, "rev-parse", "--show-prefix").stdout.decode().strip()
    if not _has_commit(top, "HEAD"):
        raise HarnessError(f"--changed: the repository {top} has no commit yet (HEAD)")
    if since is None:
        since = next((r for r in DEFAULT_BASES if _has_commit(top, r)), None)
        if since is None:
            raise HarnessError(f"--changed: none of {', '.join(DEFAULT_BASES)} exists in {top}: give --since REF")
    try:
        resolve_commit(top, validate_ref(since), top)
    except HarnessError as exc:
        raise HarnessError(f"--since {since}: {exc}") from None
    proc = run_git(top, "merge-base", "--end-of-options", since, "HEAD", check=False)
    if proc.returncode != 0:
        raise HarnessError(f"--since {since}: it shares no history with HEAD in {top} (no merge base)")
    merge_base = proc.stdout.decode().split()[0]
    out = run_git(top, "-c", "diff.renames=true", "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv",
                  merge_base, "--").stdout.decode("utf-8", "surrogateescape").split("\0")
    untracked = run_git(top, "ls-files", "--others", "--exclude-standard", "-z", "--full-name").stdout
    entries: list[tuple[str, str | None, str | None]] = []   # (status letter, old path, new path) from the root
    i = 0
    while i < len(out) and out[i]:
        code = out[i][0]
        if code in "RC":
            entries.append((code, out[i + 1] if code == "R" else None, out[i + 2]))
            i += 3
        else:
            entries.append((code, None if code == "A" else out[i + 1], None if code == "D" else out[i + 1]))
            i += 2
    entries += [("?", None, p) for p in untracked.decode("utf-8", "surrogateescape").split("\0") if p]
    inside = lambda p: p is not None and p.startswith(prefix) and posixpath.basename(p) == SKILL_FILE  # noqa: E731
    files = []
    for code, old, new in entries:
        o = old[len(prefix):] if inside(old) else None
        n = new[len(prefix):] if inside(new) else None
        if n is None and o is not None:
            files.append(Changed("deleted", o, o))
        elif n is not None and o is None:
            files.append(Changed("untracked" if code == "?" else "added", n, None))
        elif n is not None:
            files.append(Changed("renamed" if code == "R" else "modified", n, o))
    return ChangeSet(top, prefix, since, merge_base, sorted(files, key=lambda c: c.rel))
