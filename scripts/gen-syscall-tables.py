#!/usr/bin/env python3
"""Generates spo-seccomp/src/syscalls/table.rs: syscall name <-> number per architecture.

Source (pinned): https://github.com/hrw/syscalls-table, tag 6.19.0, commit SOURCE_COMMIT.
That project extracts `data/tables/syscalls-<arch>` from the Linux kernel's own tables
(arch/*/syscall*.tbl and the generic unistd.h) for each kernel release; this commit is the
Linux 6.19 release (it has listns, uprobe, file_getattr, open_tree_attr, mseal, ...).
Each file line is `name<TAB>number` (the syscall exists there) or `name` (it does not).

Since late 2023 the source leaves out syscalls the kernel removed (`_sysctl`, `uselib`,
`create_module`, `nfsservctl`, ...) although their numbers stay reserved in the kernel's
tables and libseccomp, runc and Docker's default profile still name them. Those names are
taken from the source's last commit that had them (REMOVED_COMMIT), when the number has not
been given to another syscall since.

Usage:
    scripts/gen-syscall-tables.py [GIT_DIR] > spo-seccomp/src/syscalls/table.rs

GIT_DIR is a clone of hrw/syscalls-table holding both pinned commits; when it is omitted the
script fetches them into a temporary repository (needs git and access to github.com). The
generated Rust is deterministic: regenerating from the same commit gives the same bytes.
Only the generated table is committed, never the fetched data.
"""

import subprocess
import sys
import tempfile

SOURCE_REPO = "https://github.com/hrw/syscalls-table"
SOURCE_TAG = "6.19.0"
SOURCE_COMMIT = "cae654726aed6fb91156283749c3d877b2f12ba9"
KERNEL = "6.19"
REMOVED_COMMIT = "7e0dd3cb433f66c70364c5c574b085f68d3ffdb4"

# Names the kernel's tables reserve without an implementation (e.g. `17 i386 break` in
# arch/x86/entry/syscalls/syscall_32.tbl) or define as an alias in the uapi headers
# (`__NR_arm_sync_file_range` = `__NR_sync_file_range2`); the source leaves them out, but
# libseccomp and existing profiles name them. Numbers as in the kernel's tables.
_OLD_I386 = {"break": 17, "stty": 31, "gtty": 32, "ftime": 35, "prof": 44, "lock": 53,
             "mpx": 56, "ulimit": 58, "profil": 98, "afs_syscall": 137}
RESERVED = {
    "i386": dict(_OLD_I386, putpmsg=189, vserver=273),
    "x86_64": {"putpmsg": 182, "afs_syscall": 183, "tuxcall": 184, "security": 185,
               "vserver": 236},
    "x32": {n: 0x40000000 + nr for n, nr in
            {"putpmsg": 182, "afs_syscall": 183, "tuxcall": 184, "security": 185}.items()},
    "arm": {"vserver": 313, "arm_sync_file_range": 341},
    "powerpc": dict(_OLD_I386, putpmsg=188, tuxcall=225),
    "powerpc64": dict(_OLD_I386, putpmsg=188, tuxcall=225),
    "s390": {"afs_syscall": 137, "putpmsg": 189},
    "s390x": {"afs_syscall": 137, "putpmsg": 189},
    "parisc64": {"uselib": 86, "bdflush": 134, "_sysctl": 149},
    "mipso32": {n: 4000 + nr for n, nr in dict(_OLD_I386, putpmsg=209, vserver=277).items()},
    "mips64": {"putpmsg": 5175, "afs_syscall": 5176, "vserver": 5236},
    "mips64n32": {"putpmsg": 6175, "afs_syscall": 6176, "vserver": 6240},
}

# spo's Arch variant -> the source's table name. Little- and big-endian MIPS and PowerPC
# share their numbers, so they share a table.
ARCHES = [
    ("X86", "i386"),
    ("X86_64", "x86_64"),
    ("X32", "x32"),
    ("ARM", "arm"),
    ("AARCH64", "arm64"),
    ("MIPS", "mipso32"),
    ("MIPS64", "mips64"),
    ("MIPS64N32", "mips64n32"),
    ("PPC", "powerpc"),
    ("PPC64", "powerpc64"),
    ("S390", "s390"),
    ("S390X", "s390x"),
    ("PARISC", "parisc"),
    ("PARISC64", "parisc64"),
    ("RISCV64", "riscv64"),
]


def read_table(root, commit, name):
    """{name: number} of the syscalls that exist on the architecture at `commit`."""
    out = {}
    path = f"{commit}:data/tables/syscalls-{name}"
    text = subprocess.run(
        ["git", "--git-dir", root, "show", path],
        check=True, capture_output=True, encoding="ascii",
    ).stdout
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if len(parts) == 1:
            continue
        if len(parts) != 2 or not parts[1].isdigit():
            sys.exit(f"{path}:{lineno}: unexpected line {line!r}")
        sc, nr = parts[0], int(parts[1])
        if sc in out and out[sc] != nr:
            sys.exit(f"{path}:{lineno}: {sc} listed twice")
        out[sc] = nr
    return out


def merged_table(root, name):
    """The current table plus removed syscalls whose number is still free, sorted by name."""
    now = read_table(root, SOURCE_COMMIT, name)
    taken = set(now.values())
    try:
        before = read_table(root, REMOVED_COMMIT, name)
    except subprocess.CalledProcessError:
        before = {}
    for sc, nr in before.items():
        if sc not in now and nr not in taken:
            now[sc] = nr
            taken.add(nr)
    for sc, nr in RESERVED.get(name, {}).items():
        now.setdefault(sc, nr)
    return sorted(now.items())


def checkout():
    tmp = tempfile.mkdtemp(prefix="syscalls-table-")
    subprocess.run(["git", "init", "-q", "--bare", tmp], check=True)
    for commit in (SOURCE_COMMIT, REMOVED_COMMIT):
        subprocess.run(
            ["git", "--git-dir", tmp, "fetch", "-q", "--depth", "1", SOURCE_REPO, commit],
            check=True,
        )
    return tmp


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else checkout()
    w = sys.stdout.write
    w("// @generated by scripts/gen-syscall-tables.py; do not edit.\n")
    w("//! Syscall name/number tables per architecture, generated from the kernel's tables.\n")
    w(f"// Source: {SOURCE_REPO} tag {SOURCE_TAG}, commit {SOURCE_COMMIT}\n")
    w(f"// (the Linux {KERNEL} syscall tables, MIT licensed).\n\n")
    w("/// The Linux release the tables describe.\n")
    w(f'pub const KERNEL_VERSION: &str = "{KERNEL}";\n\n')
    w("/// Where the tables come from (repository and commit).\n")
    w(f'pub const SOURCE: &str = "{SOURCE_REPO}@{SOURCE_COMMIT}";\n')
    for variant, name in ARCHES:
        rows = merged_table(root, name)
        w(f"\n/// `{name}`: (name, number), sorted by name ({len(rows)} syscalls).\n")
        w(f"pub(super) static {variant}: &[(&str, u32)] = &[\n")
        for sc, nr in rows:
            w(f'    ("{sc}", {nr}),\n')
        w("];\n")


if __name__ == "__main__":
    main()
