//! A minimal CO-RE target BTF (the idea of `bpftool gen min_core_btf`): from the kernel's
//! BTF keep only the structs and members `bpf/core.h` declares, with the kernel's offsets.
//! aya then relocates the program's `preserve_access_index` accesses against this small BTF
//! instead of parsing all ~130 000 kernel types (which costs ~35 ms and ~20 MiB per start).
//!
//! Pure: bytes in, bytes out.

use std::fmt;

const BTF_MAGIC: u16 = 0xeb9f;

/// Why the kernel BTF could not be reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinBtfError(pub String);

impl fmt::Display for MinBtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, MinBtfError> {
    Err(MinBtfError(msg.into()))
}

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_TYPE_TAG: u32 = 18;

struct Raw<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// byte offset of type id `i` (index 0 = id 1) in `types`
    pos: Vec<u32>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Raw<'a> {
    fn parse(data: &'a [u8]) -> Result<Raw<'a>, MinBtfError> {
        let magic = data.get(0..2).map(|s| u16::from_le_bytes([s[0], s[1]]));
        if magic != Some(BTF_MAGIC) {
            return err("not little-endian BTF (bad magic)");
        }
        let field = |o| u32_at(data, o).ok_or_else(|| MinBtfError("truncated header".into()));
        let hdr_len = field(4)? as usize;
        let type_off = field(8)? as usize;
        let type_len = field(12)? as usize;
        let str_off = field(16)? as usize;
        let str_len = field(20)? as usize;
        let types = data
            .get(hdr_len + type_off..hdr_len + type_off + type_len)
            .ok_or_else(|| MinBtfError("type section out of bounds".into()))?;
        let strings = data
            .get(hdr_len + str_off..hdr_len + str_off + str_len)
            .ok_or_else(|| MinBtfError("string section out of bounds".into()))?;
        let mut pos = Vec::with_capacity(type_len / 24);
        let mut off = 0usize;
        while off < types.len() {
            pos.push(off as u32);
            let info =
                u32_at(types, off + 4).ok_or_else(|| MinBtfError("truncated type".into()))?;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                1 | 14 | 17 => 4,          // INT, VAR, DECL_TAG
                3 => 12,                   // ARRAY
                4 | 5 => 12 * vlen,        // STRUCT, UNION
                6 | 13 => 8 * vlen,        // ENUM, FUNC_PROTO
                15 | 19 => 12 * vlen,      // DATASEC, ENUM64
                2 | 7..=12 | 16 | 18 => 0, // PTR, FWD, TYPEDEF, modifiers, FUNC, FLOAT, TYPE_TAG
                k => return err(format!("unknown BTF kind {k}")),
            };
            off += 12 + extra;
        }
        Ok(Raw {
            types,
            strings,
            pos,
        })
    }

    fn name(&self, name_off: u32) -> &'a [u8] {
        let s = self.strings.get(name_off as usize..).unwrap_or_default();
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        &s[..end]
    }

    /// `(name_off, info, size_or_type, offset in types)` of type `id`.
    fn ty(&self, id: u32) -> Option<(u32, u32, u32, usize)> {
        let off = *self.pos.get((id as usize).checked_sub(1)?)? as usize;
        Some((
            u32_at(self.types, off)?,
            u32_at(self.types, off + 4)?,
            u32_at(self.types, off + 8)?,
            off,
        ))
    }

    fn kind(&self, id: u32) -> Option<u32> {
        self.ty(id).map(|(_, info, _, _)| (info >> 24) & 0x1f)
    }

    /// Follows typedefs and modifiers.
    fn strip(&self, mut id: u32) -> u32 {
        for _ in 0..32 {
            match self.ty(id) {
                Some((_, info, t, _))
                    if matches!(
                        (info >> 24) & 0x1f,
                        KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG
                    ) =>
                {
                    id = t
                }
                _ => break,
            }
        }
        id
    }

    /// The first struct (with members) named `name`.
    fn find_struct(&self, name: &str) -> Option<u32> {
        (1..=self.pos.len() as u32).find(|&id| {
            self.ty(id).is_some_and(|(n, info, _, _)| {
                (info >> 24) & 0x1f == KIND_STRUCT
                    && info & 0xffff != 0
                    && self.name(n) == name.as_bytes()
            })
        })
    }

    /// `(bit offset, type id)` of member `name` of struct/union `id`, looking into anonymous
    /// struct/union members.
    fn member(&self, id: u32, name: &str) -> Option<(u32, u32)> {
        let (_, info, _, off) = self.ty(id)?;
        let kind = (info >> 24) & 0x1f;
        if kind != KIND_STRUCT && kind != KIND_UNION {
            return None;
        }
        let kflag = info >> 31 == 1;
        for i in 0..(info & 0xffff) as usize {
            let m = off + 12 + 12 * i;
            let (mname, mtype, moff) = (
                u32_at(self.types, m)?,
                u32_at(self.types, m + 4)?,
                u32_at(self.types, m + 8)?,
            );
            let bit = if kflag { moff & 0x00ff_ffff } else { moff };
            if mname == 0 {
                let inner = self.strip(mtype);
                if let Some((b, t)) = self.member(inner, name) {
                    return Some((bit + b, t));
                }
            } else if self.name(mname) == name.as_bytes() {
                return Some((bit, mtype));
            }
        }
        None
    }

    fn size(&self, id: u32) -> Option<u32> {
        self.ty(id).map(|(_, _, s, _)| s)
    }
}

/// Builder for the output BTF.
#[derive(Default)]
struct Out {
    types: Vec<u8>,
    strings: Vec<u8>,
    next_id: u32,
}

impl Out {
    fn new() -> Self {
        Out {
            types: Vec::new(),
            strings: vec![0],
            next_id: 1,
        }
    }

    fn string(&mut self, s: &str) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn push(&mut self, words: &[u32]) -> u32 {
        for w in words {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn int_u32(&mut self) -> u32 {
        let n = self.string("unsigned int");
        // INT: size 4, encoding 0 (unsigned), offset 0, 32 bits.
        self.push(&[n, KIND_INT << 24, 4, 32])
    }

    fn int_i32(&mut self) -> u32 {
        let n = self.string("int");
        // INT: size 4, encoding 1 (signed), offset 0, 32 bits.
        self.push(&[n, KIND_INT << 24, 4, (1 << 24) | 32])
    }

    fn ptr(&mut self, to: u32) -> u32 {
        self.push(&[0, KIND_PTR << 24, to])
    }

    fn strukt(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let n = self.string(name);
        let mut words = vec![n, (KIND_STRUCT << 24) | members.len() as u32, size];
        for (mname, ty, bit) in members {
            let mn = self.string(mname);
            words.extend_from_slice(&[mn, *ty, *bit]);
        }
        self.push(&words)
    }

    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.types.len() + self.strings.len());
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1); // version
        out.push(0); // flags
        for w in [
            24u32,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// The fields `bpf/core.h` reads, as found in a kernel BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreFields {
    /// Byte offset of `task_struct.thread_info.status` (x86 only), and sizes.
    pub thread_info_status: Option<u32>,
    /// Byte offset of `task_struct.nsproxy`.
    pub task_nsproxy: u32,
    /// Byte offsets of `task_struct.pid` and `task_struct.tgid`.
    pub task_pid_tgid: (u32, u32),
    /// Byte offset of `nsproxy.mnt_ns`.
    pub nsproxy_mnt_ns: u32,
    /// Byte offset of `mnt_namespace.ns.inum`.
    pub mnt_ns_inum: u32,
}

/// Byte offset of `strukt.member` in the kernel's raw BTF (for fields a program reads through
/// an offset userspace passes in a map rather than a CO-RE relocation).
pub fn member_offset(vmlinux: &[u8], strukt: &str, member: &str) -> Result<u32, MinBtfError> {
    let raw = Raw::parse(vmlinux)?;
    let id = raw
        .find_struct(strukt)
        .ok_or_else(|| MinBtfError(format!("the kernel BTF has no struct {strukt}")))?;
    let (bit, _) = raw
        .member(id, member)
        .ok_or_else(|| MinBtfError(format!("the kernel BTF has no {strukt}.{member}")))?;
    if bit % 8 != 0 {
        return err(format!("{strukt}.{member} is a bit field"));
    }
    Ok(bit / 8)
}

/// Builds the minimal target BTF from the kernel's raw BTF (`/sys/kernel/btf/vmlinux`).
/// `need_status`: the program reads `task_struct.thread_info.status` (x86 compat detection).
pub fn minimal_core_btf(
    vmlinux: &[u8],
    need_status: bool,
) -> Result<(Vec<u8>, CoreFields), MinBtfError> {
    let raw = Raw::parse(vmlinux)?;
    let missing = |what: &str| MinBtfError(format!("the kernel BTF has no {what}"));
    let task = raw
        .find_struct("task_struct")
        .ok_or_else(|| missing("struct task_struct"))?;
    let (nsproxy_bit, nsproxy_ptr) = raw
        .member(task, "nsproxy")
        .ok_or_else(|| missing("task_struct.nsproxy"))?;
    let (pid_bit, _) = raw
        .member(task, "pid")
        .ok_or_else(|| missing("task_struct.pid"))?;
    let (tgid_bit, _) = raw
        .member(task, "tgid")
        .ok_or_else(|| missing("task_struct.tgid"))?;
    let nsproxy = raw.strip(
        raw.ty(raw.strip(nsproxy_ptr))
            .filter(|_| raw.kind(raw.strip(nsproxy_ptr)) == Some(KIND_PTR))
            .map(|(_, _, t, _)| t)
            .ok_or_else(|| missing("pointer type of task_struct.nsproxy"))?,
    );
    let (mnt_ns_bit, _) = raw
        .member(nsproxy, "mnt_ns")
        .ok_or_else(|| missing("nsproxy.mnt_ns"))?;
    let mnt_ns = raw
        .find_struct("mnt_namespace")
        .ok_or_else(|| missing("struct mnt_namespace"))?;
    let (ns_bit, ns_ty) = raw
        .member(mnt_ns, "ns")
        .ok_or_else(|| missing("mnt_namespace.ns"))?;
    let ns_common = raw.strip(ns_ty);
    let (inum_bit, _) = raw
        .member(ns_common, "inum")
        .ok_or_else(|| missing("ns_common.inum"))?;
    let status = if need_status {
        let (ti_bit, ti_ty) = raw
            .member(task, "thread_info")
            .ok_or_else(|| missing("task_struct.thread_info"))?;
        let ti = raw.strip(ti_ty);
        let (st_bit, _) = raw
            .member(ti, "status")
            .ok_or_else(|| missing("thread_info.status"))?;
        Some((ti_bit, raw.size(ti).unwrap_or(0), st_bit))
    } else {
        None
    };

    let mut out = Out::new();
    let uint = out.int_u32();
    let ns_common_id = out.strukt(
        "ns_common",
        raw.size(ns_common).unwrap_or(0),
        &[("inum", uint, inum_bit)],
    );
    let mnt_ns_id = out.strukt(
        "mnt_namespace",
        raw.size(mnt_ns).unwrap_or(0),
        &[("ns", ns_common_id, ns_bit)],
    );
    let mnt_ns_ptr = out.ptr(mnt_ns_id);
    let nsproxy_id = out.strukt(
        "nsproxy",
        raw.size(nsproxy).unwrap_or(0),
        &[("mnt_ns", mnt_ns_ptr, mnt_ns_bit)],
    );
    let nsproxy_ptr_id = out.ptr(nsproxy_id);
    let int = out.int_i32();
    let mut task_members = vec![
        ("pid", int, pid_bit),
        ("tgid", int, tgid_bit),
        ("nsproxy", nsproxy_ptr_id, nsproxy_bit),
    ];
    if let Some((ti_bit, ti_size, st_bit)) = status {
        let ti_id = out.strukt("thread_info", ti_size, &[("status", uint, st_bit)]);
        task_members.insert(0, ("thread_info", ti_id, ti_bit));
    }
    out.strukt("task_struct", raw.size(task).unwrap_or(0), &task_members);
    let fields = CoreFields {
        thread_info_status: status.map(|(ti, _, st)| (ti + st) / 8),
        task_nsproxy: nsproxy_bit / 8,
        task_pid_tgid: (pid_bit / 8, tgid_bit / 8),
        nsproxy_mnt_ns: mnt_ns_bit / 8,
        mnt_ns_inum: (ns_bit + inum_bit) / 8,
    };
    Ok((out.finish(), fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_offsets_of_the_running_kernel() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("SKIP: no /sys/kernel/btf/vmlinux");
            return;
        };
        let off = member_offset(&data, "linux_binprm", "filename").unwrap();
        assert!(off > 0 && off < 4096, "{off}");
        assert!(member_offset(&data, "linux_binprm", "no_such_field").is_err());
        assert!(member_offset(&data, "no_such_struct", "x").is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(minimal_core_btf(b"not btf at all", true).is_err());
        assert!(minimal_core_btf(&[], true).is_err());
    }

    #[test]
    fn reduces_the_running_kernels_btf() {
        let Ok(data) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("skipped: this kernel exposes no /sys/kernel/btf/vmlinux");
            return;
        };
        let (min, fields) = minimal_core_btf(&data, cfg!(target_arch = "x86_64")).unwrap();
        assert!(min.len() < 1024, "{} bytes", min.len());
        assert!(fields.task_nsproxy > 0);
        // The output is itself valid BTF with the same offsets.
        let again = Raw::parse(&min).unwrap();
        let task = again.find_struct("task_struct").unwrap();
        assert_eq!(
            again.member(task, "nsproxy").unwrap().0 / 8,
            fields.task_nsproxy
        );
    }
}
