//! The recorder with the `bpf` feature: loads `bpf/recorder.bpf.c` (compiled by build.rs)
//! with aya and manages its maps.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;

use aya::maps::{Array, HashMap, MapData, PerCpuArray, PerCpuValues};
use aya::programs::raw_trace_point::RawTracePointLinkId;
use aya::programs::RawTracePoint;
use aya::{Btf, Ebpf, EbpfLoader};

use super::abi::{
    Abi, RawAaConfig, RawAaKey, RawAaSlot, RawBitmap, RawCache, RawConfig, RawKey, RawTarget,
    MAX_LEVELS, MAX_TARGETS, STAT_AA_DROPPED, STAT_AA_RELATIVE, STAT_BAD_NR, STAT_DROPPED,
    STAT_MAX,
};
use super::apparmor::AppArmorRecorded;
use super::btf_min::{member_offset, minimal_core_btf};
use super::cgroup::{cgroup2_mount_from, RecordCgroup};
use super::error::BpfError;
use super::recorded::Recorded;
use super::{LoadOptions, TargetId};

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/recorder.bpf.o"));

const PROGRAM: &str = "sys_enter";
const TRACEPOINT: &str = "sys_enter";

/// AppArmor programs: (program, raw tracepoint).
const AA_SYS_EXIT: (&str, &str) = ("aa_sys_exit", "sys_exit");
const AA_EXEC: (&str, &str) = ("aa_exec_done", "sched_process_exec");
const AA_CAP: (&str, &str) = ("aa_cap", "cap_capable");

/// State of the AppArmor programs once enabled.
#[derive(Debug, Default)]
struct AppArmorState {
    links: Vec<(&'static str, RawTracePointLinkId)>,
    /// Why capabilities cannot be recorded (no `cap_capable` tracepoint), if so.
    cap_error: Option<String>,
}

/// A loaded (not yet attached) syscall recorder. The raw tracepoint is attached only while
/// at least one target is being recorded (RC-39: reference-counted start/stop), because the
/// hook costs every syscall on the machine while attached.
pub struct Recorder {
    ebpf: Ebpf,
    link: Option<RawTracePointLinkId>,
    /// cgroup ids (with their level) per slot; `None` = free.
    slots: Vec<Option<Vec<(u64, u32)>>>,
    /// Instance number per slot.
    instances: Vec<u32>,
    next_instance: u32,
    /// level → number of registered cgroups at that level.
    levels: BTreeMap<u32, usize>,
    /// Keep the tracepoint attached even with no target (see [`Recorder::hold_attached`]).
    held: bool,
    /// Set once AppArmor recording is enabled.
    aa: Option<AppArmorState>,
    /// Byte offset of `linux_binprm.filename` (from the kernel BTF).
    binprm_filename: Option<u32>,
    pub(super) opts: LoadOptions,
    pub(super) cgroup_mount: std::path::PathBuf,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("attached", &self.link.is_some())
            .field("levels", &self.levels)
            .finish_non_exhaustive()
    }
}

/// The message of an error and all its sources, once each.
fn chain(e: &dyn StdError) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The object's `sys_enter` raw tracepoint program.
fn program_of(ebpf: &mut Ebpf) -> Result<&mut RawTracePoint, BpfError> {
    ebpf.program_mut(PROGRAM)
        .ok_or_else(|| BpfError::Kernel {
            what: "find program".into(),
            source: format!("the object has no program `{PROGRAM}`").into(),
        })?
        .try_into()
        .map_err(|e| kernel_err("program type", e))
}

/// One of the AppArmor raw tracepoint programs.
fn aa_program<'a>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut RawTracePoint, BpfError> {
    ebpf.program_mut(name)
        .ok_or_else(|| BpfError::Kernel {
            what: "find program".into(),
            source: format!("the object has no program `{name}`").into(),
        })?
        .try_into()
        .map_err(|e| kernel_err("program type", e))
}

/// The OS error in `e`'s source chain, typed (aya keeps the `io::Error` of the failing
/// system call as a source).
fn os_error(e: &(dyn StdError + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return io.raw_os_error();
        }
        cur = c.source();
    }
    None
}

fn kernel_err(what: &str, e: impl StdError + Send + Sync + 'static) -> BpfError {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root && matches!(os_error(&e), Some(libc::EPERM | libc::EACCES)) {
        return BpfError::NotPrivileged;
    }
    BpfError::Kernel {
        what: what.to_string(),
        source: Box::new(e),
    }
}

fn map_err(map: &'static str, e: impl StdError + Send + Sync + 'static) -> BpfError {
    BpfError::Map {
        map,
        source: Box::new(e),
    }
}

/// The CO-RE target BTF: the kernel's, reduced to the types `bpf/core.h` declares; and the
/// offset of `linux_binprm.filename` (AppArmor exec recording), when the kernel has it.
fn target_btf(path: &std::path::Path) -> Result<(Btf, Option<u32>), BpfError> {
    let bad = |reason: String| BpfError::BadBtf {
        path: path.to_path_buf(),
        reason,
    };
    let data = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let (min, _) = minimal_core_btf(&data, cfg!(target_arch = "x86_64")).map_err(|e| bad(e.0))?;
    let binprm = match member_offset(&data, "linux_binprm", "filename") {
        Ok(o) => Some(o),
        Err(e) => {
            tracing::debug!(error = %e, "executables cannot be recorded for AppArmor");
            None
        }
    };
    Btf::parse(&min, aya::Endianness::default())
        .map(|b| (b, binprm))
        .map_err(|e| bad(chain(&e)))
}

/// Loads the object with `btf` as the CO-RE target.
///
/// aya 0.14's `EbpfLoader::new()` always parses the full `/sys/kernel/btf/vmlinux` first
/// (~35 ms and ~20 MiB peak RSS here), even when `.btf()` then replaces it. To keep
/// `spoc record` fast and small, the loader is constructed on a short-lived thread that has
/// its own filesystem root (`unshare(CLONE_FS)` + `chroot` into an empty directory), where
/// that file does not exist, so `new()` finds nothing to parse. Only that thread's view
/// changes; if the trick is not possible the normal path is used.
fn load_object(btf: &Btf) -> Result<Ebpf, BpfError> {
    let empty = tempdir_empty();
    let cheap = empty.as_deref().and_then(|empty| {
        std::thread::scope(|s| {
            s.spawn(|| -> Option<Result<Ebpf, BpfError>> {
                // SAFETY: unshare(CLONE_FS) only detaches this thread's cwd/root from the
                // process.
                let ok = unsafe { libc::unshare(libc::CLONE_FS) } == 0
                    && std::os::unix::fs::chroot(empty).is_ok();
                if !ok {
                    return None;
                }
                let _ = std::env::set_current_dir("/");
                Some(
                    EbpfLoader::new()
                        .btf(Some(btf))
                        .load(OBJECT)
                        .map_err(|e| kernel_err("load object", e)),
                )
            })
            .join()
            .ok()
            .flatten()
        })
    });
    // Removed from this thread, whose root is the real one.
    if let Some(dir) = &empty {
        let _ = std::fs::remove_dir(dir);
    }
    match cheap {
        Some(r) => r,
        None => EbpfLoader::new()
            .btf(Some(btf))
            .load(OBJECT)
            .map_err(|e| kernel_err("load object", e)),
    }
}

/// A fresh empty directory (removed by the caller once it is the thread's root).
fn tempdir_empty() -> Option<std::path::PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..16u32 {
        let p = base.join(format!(".spo-bpf-load-{}-{i}", std::process::id()));
        if std::fs::create_dir(&p).is_ok() {
            return Some(p);
        }
    }
    None
}

impl Recorder {
    /// Loads the recorder and runs the start-up self-test (RC-36).
    pub fn new() -> Result<Recorder, BpfError> {
        let mut r = Recorder::load(&LoadOptions::default())?;
        r.self_test()?;
        Ok(r)
    }

    /// Checks the prerequisites named in `opts` (kernel BTF, cgroup v2), loads the object and
    /// its program into the kernel; nothing is attached yet.
    pub fn load(opts: &LoadOptions) -> Result<Recorder, BpfError> {
        let cgroup_mount = cgroup2_mount_from(&opts.mountinfo)?;
        if !opts.btf.exists() {
            return Err(BpfError::NoBtf {
                path: opts.btf.clone(),
            });
        }
        let (btf, binprm_filename) = target_btf(&opts.btf)?;
        let mut ebpf = load_object(&btf)?;
        drop(btf);
        program_of(&mut ebpf)?
            .load()
            .map_err(|e| kernel_err("load program sys_enter", e))?;
        Ok(Recorder {
            ebpf,
            link: None,
            slots: vec![None; MAX_TARGETS],
            instances: vec![0; MAX_TARGETS],
            next_instance: 1,
            levels: BTreeMap::new(),
            held: false,
            aa: None,
            binprm_filename,
            opts: opts.clone(),
            cgroup_mount,
        })
    }

    /// Keeps the tracepoint attached while no target is recorded, until the next target
    /// starts (`true`); `false` (the default) lets it go, detaching now if idle. A caller that
    /// self-tests and then records right away saves a detach/attach pair (each waits for an
    /// RCU grace period in the kernel).
    pub fn hold_attached(&mut self, hold: bool) -> Result<(), BpfError> {
        self.held = hold;
        if hold {
            self.attach()
        } else if self.slots.iter().all(Option::is_none) {
            self.detach()
        } else {
            Ok(())
        }
    }

    /// True while a hold is active.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// True while the tracepoint is attached.
    pub fn is_attached(&self) -> bool {
        self.link.is_some()
    }

    fn program(&mut self) -> Result<&mut RawTracePoint, BpfError> {
        program_of(&mut self.ebpf)
    }

    /// Enables AppArmor recording (RC-21) for every target from now on: switches on the
    /// AppArmor part of the syscall program and loads the three other AppArmor raw
    /// tracepoint programs (see [`crate::bpf::apparmor`]), attached together with the
    /// syscall program. Only a missing `cap_capable` tracepoint (Linux < 6.14) is
    /// tolerated: capabilities are then not recorded, which
    /// [`Recorder::apparmor_capabilities`] reports.
    pub fn enable_apparmor(&mut self) -> Result<(), BpfError> {
        if self.aa.is_some() {
            return Ok(());
        }
        for (prog, _) in [AA_SYS_EXIT, AA_EXEC, AA_CAP] {
            aa_program(&mut self.ebpf, prog)?
                .load()
                .map_err(|e| kernel_err(&format!("load program {prog}"), e))?;
        }
        let cfg = RawAaConfig {
            binprm_filename: self.binprm_filename.unwrap_or(0),
            valid: u32::from(self.binprm_filename.is_some()),
            enabled: 1,
            pad: 0,
        };
        let map = self.ebpf.map_mut("aa_config").ok_or(BpfError::Map {
            map: "aa_config",
            source: "missing from the object".into(),
        })?;
        let mut arr: Array<&mut MapData, RawAaConfig> =
            Array::try_from(map).map_err(|e| map_err("aa_config", e))?;
        arr.set(0, cfg, 0).map_err(|e| map_err("aa_config", e))?;
        self.aa = Some(AppArmorState::default());
        if self.link.is_some() {
            self.attach_apparmor()?;
        }
        Ok(())
    }

    /// `Ok` when capabilities are recorded, else why not (`Ok` also before the first attach).
    pub fn apparmor_capabilities(&self) -> Result<(), String> {
        match self.aa.as_ref().and_then(|a| a.cap_error.clone()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn attach_apparmor(&mut self) -> Result<(), BpfError> {
        let Some(mut aa) = self.aa.take() else {
            return Ok(());
        };
        let mut result = Ok(());
        if aa.links.is_empty() {
            for (prog, tp) in [AA_SYS_EXIT, AA_EXEC, AA_CAP] {
                let attached = aa_program(&mut self.ebpf, prog).and_then(|p| {
                    p.attach(tp)
                        .map_err(|e| kernel_err(&format!("attach raw tracepoint {tp}"), e))
                });
                match attached {
                    Ok(link) => aa.links.push((prog, link)),
                    Err(e) if prog == AA_CAP.0 => {
                        let why = format!(
                            "capabilities are not recorded: the kernel has no cap_capable \
                             tracepoint (Linux >= 6.14): {e}"
                        );
                        tracing::warn!("{why}");
                        aa.cap_error = Some(why);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        self.aa = Some(aa);
        if result.is_err() {
            self.detach_apparmor();
        }
        result
    }

    fn detach_apparmor(&mut self) {
        let Some(mut aa) = self.aa.take() else {
            return;
        };
        for (prog, link) in aa.links.drain(..) {
            if let Ok(p) = aa_program(&mut self.ebpf, prog) {
                if let Err(e) = p.detach(link) {
                    tracing::warn!(program = prog, error = %chain(&e), "detach failed");
                }
            }
        }
        self.aa = Some(aa);
    }

    /// The AppArmor data of `target` (empty when AppArmor recording is off).
    fn apparmor_snapshot(
        &self,
        target: TargetId,
        instance: u32,
    ) -> Result<AppArmorRecorded, BpfError> {
        let Some(aa) = &self.aa else {
            return Ok(AppArmorRecorded::default());
        };
        let mut out = AppArmorRecorded {
            enabled: true,
            capabilities_recorded: aa.cap_error.is_none(),
            ..AppArmorRecorded::default()
        };
        let map = self.ebpf.map("aa_paths").ok_or(BpfError::Map {
            map: "aa_paths",
            source: "missing from the object".into(),
        })?;
        let paths: HashMap<&MapData, RawAaKey, u64> =
            HashMap::try_from(map).map_err(|e| map_err("aa_paths", e))?;
        for item in paths.iter() {
            let (k, v) = item.map_err(|e| map_err("aa_paths", e))?;
            if k.slot == target.0 && k.instance == instance {
                *out.files.entry(k.path()).or_default() |= v;
            }
        }
        let map = self.ebpf.map("aa_slots").ok_or(BpfError::Map {
            map: "aa_slots",
            source: "missing from the object".into(),
        })?;
        let slots: Array<&MapData, RawAaSlot> =
            Array::try_from(map).map_err(|e| map_err("aa_slots", e))?;
        let s = slots
            .get(&target.0, 0)
            .map_err(|e| map_err("aa_slots", e))?;
        if s.instance == instance {
            out.capabilities = s.caps;
            out.sockets = s.sockets;
        }
        Ok(out)
    }

    fn attach(&mut self) -> Result<(), BpfError> {
        if self.aa.is_some() {
            self.attach_apparmor()?;
        }
        if self.link.is_none() {
            let link = self
                .program()?
                .attach(TRACEPOINT)
                .map_err(|e| kernel_err("attach raw tracepoint sys_enter", e))?;
            self.link = Some(link);
            tracing::debug!("raw tracepoint sys_enter attached");
        }
        Ok(())
    }

    fn detach(&mut self) -> Result<(), BpfError> {
        self.detach_apparmor();
        if let Some(link) = self.link.take() {
            self.program()?
                .detach(link)
                .map_err(|e| kernel_err("detach raw tracepoint sys_enter", e))?;
            tracing::debug!("raw tracepoint sys_enter detached");
        }
        Ok(())
    }

    fn write_config(&mut self) -> Result<(), BpfError> {
        let mut cfg = RawConfig::default();
        for (i, l) in self.levels.keys().take(MAX_LEVELS).enumerate() {
            cfg.levels[i] = *l;
            cfg.nlevels = i as u32 + 1;
        }
        let map = self.ebpf.map_mut("config").ok_or(BpfError::Map {
            map: "config",
            source: "missing from the object".into(),
        })?;
        let mut arr: Array<&mut MapData, RawConfig> =
            Array::try_from(map).map_err(|e| map_err("config", e))?;
        arr.set(0, cfg, 0).map_err(|e| map_err("config", e))
    }

    fn targets_map(&mut self) -> Result<HashMap<&mut MapData, u64, RawTarget>, BpfError> {
        let map = self.ebpf.map_mut("targets").ok_or(BpfError::Map {
            map: "targets",
            source: "missing from the object".into(),
        })?;
        HashMap::try_from(map).map_err(|e| map_err("targets", e))
    }

    /// Starts recording a new target made of `cgroups` (more can be added with
    /// [`Recorder::add_cgroup`]); attaches the tracepoint if it is the first target.
    pub fn start(&mut self, cgroups: &[&RecordCgroup]) -> Result<TargetId, BpfError> {
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(BpfError::TooManyTargets { max: MAX_TARGETS })?;
        self.slots[slot] = Some(Vec::new());
        let id = TargetId(slot as u32);
        self.instances[slot] = self.next_instance;
        self.next_instance = self.next_instance.wrapping_add(1).max(1);
        self.reset_slot(slot as u32)?;
        if let Err(e) = self.set_active(slot as u32, self.instances[slot]) {
            let _ = self.stop(id);
            return Err(e);
        }
        for cg in cgroups {
            if let Err(e) = self.add_cgroup(id, cg) {
                let _ = self.stop(id);
                return Err(e);
            }
        }
        if let Err(e) = self.attach() {
            let _ = self.stop(id);
            return Err(e);
        }
        // A hold lasts until a target takes over the reference.
        self.held = false;
        Ok(id)
    }

    /// Adds a cgroup to a running target.
    pub fn add_cgroup(&mut self, target: TargetId, cg: &RecordCgroup) -> Result<(), BpfError> {
        let level = cg.level();
        if !self.levels.contains_key(&level) && self.levels.len() >= MAX_LEVELS {
            return Err(BpfError::Map {
                map: "config",
                source: format!(
                    "cgroups at more than {MAX_LEVELS} different depths cannot be followed at once"
                )
                .into(),
            });
        }
        *self.levels.entry(level).or_default() += 1;
        self.write_config()?;
        let value = RawTarget {
            slot: target.0,
            instance: self.instances.get(target.0 as usize).copied().unwrap_or(0),
        };
        self.targets_map()?
            .insert(cg.id(), value, 0)
            .map_err(|e| map_err("targets", e))?;
        if let Some(Some(v)) = self.slots.get_mut(target.0 as usize) {
            v.push((cg.id(), level));
        }
        Ok(())
    }

    /// Everything recorded for `target` so far (the recording goes on).
    pub fn snapshot(&self, target: TargetId) -> Result<Recorded, BpfError> {
        let mut rec = Recorded::default();
        let instance = self.instances.get(target.0 as usize).copied().unwrap_or(0);
        // Per-CPU caches first: a concurrent flush moves bits from a cache into the shared
        // map, so reading in this order sees them at least once.
        let cache_map = self.ebpf.map("cache").ok_or(BpfError::Map {
            map: "cache",
            source: "missing from the object".into(),
        })?;
        let cache: PerCpuArray<&MapData, RawCache> =
            PerCpuArray::try_from(cache_map).map_err(|e| map_err("cache", e))?;
        let per_cpu = cache.get(&0, 0).map_err(|e| map_err("cache", e))?;
        for c in per_cpu.iter() {
            if c.task == 0 || c.slot != target.0 || c.instance != instance {
                continue;
            }
            for (i, bits) in c.bits.iter().enumerate() {
                let Some(abi) = Abi::from_raw(i as u32) else {
                    continue;
                };
                let nrs: Vec<u32> = bits.numbers().collect();
                if !nrs.is_empty() {
                    rec.by_mntns.entry((abi, c.mntns)).or_default().extend(nrs);
                }
            }
        }
        let map = self.ebpf.map("syscalls").ok_or(BpfError::Map {
            map: "syscalls",
            source: "missing from the object".into(),
        })?;
        let syscalls: HashMap<&MapData, RawKey, RawBitmap> =
            HashMap::try_from(map).map_err(|e| map_err("syscalls", e))?;
        for item in syscalls.iter() {
            let (k, v) = item.map_err(|e| map_err("syscalls", e))?;
            if k.target != target.0 {
                continue;
            }
            let Some(abi) = Abi::from_raw(k.abi) else {
                continue;
            };
            rec.by_mntns
                .entry((abi, k.mntns))
                .or_insert_with(BTreeSet::new)
                .extend(v.numbers());
        }
        let stats_map = self.ebpf.map("stats").ok_or(BpfError::Map {
            map: "stats",
            source: "missing from the object".into(),
        })?;
        let stats: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(stats_map).map_err(|e| map_err("stats", e))?;
        let sum = |stat: u32| -> Result<u64, BpfError> {
            let v = stats
                .get(&(target.0 * STAT_MAX + stat), 0)
                .map_err(|e| map_err("stats", e))?;
            Ok(v.iter().sum())
        };
        rec.dropped = sum(STAT_DROPPED)?;
        rec.invalid_numbers = sum(STAT_BAD_NR)?;
        rec.dropped += self.recursion_misses();
        rec.apparmor = self.apparmor_snapshot(target, instance)?;
        rec.apparmor.dropped = sum(STAT_AA_DROPPED)?;
        rec.apparmor.relative_paths = sum(STAT_AA_RELATIVE)?;
        Ok(rec)
    }

    /// Runs of the program the kernel skipped because it was already running on that CPU
    /// (`bpf_prog_info.recursion_misses`): syscalls nobody saw. Zero in practice (a syscall
    /// cannot start inside another one's tracepoint unless the kernel preempts it there); it
    /// is counted as dropped so a loss can never go unnoticed.
    fn recursion_misses(&self) -> u64 {
        use std::os::fd::{AsFd, AsRawFd};
        let Some(prog) = self.ebpf.program(PROGRAM) else {
            return 0;
        };
        let Ok(fd) = prog.fd() else {
            return 0;
        };
        let raw = fd.as_fd().as_raw_fd();
        // struct bpf_prog_info is 232 bytes in the UAPI we build against;
        // recursion_misses is the u64 at offset 208 (append-only ABI).
        let mut info = [0u64; 232 / 8];
        // union bpf_attr.info = { u32 bpf_fd; u32 info_len; u64 info; }
        let mut attr = [0u64; 144 / 8];
        attr[0] = (raw as u32 as u64) | ((std::mem::size_of_val(&info) as u64) << 32);
        attr[1] = info.as_mut_ptr() as u64;
        const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
        // SAFETY: the kernel writes at most info_len bytes into `info`, which outlives the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                BPF_OBJ_GET_INFO_BY_FD,
                attr.as_mut_ptr(),
                std::mem::size_of_val(&attr) as u32,
            )
        };
        if r != 0 {
            return 0;
        }
        info[208 / 8]
    }

    fn set_active(&mut self, slot: u32, instance: u32) -> Result<(), BpfError> {
        let map = self.ebpf.map_mut("active").ok_or(BpfError::Map {
            map: "active",
            source: "missing from the object".into(),
        })?;
        let mut arr: Array<&mut MapData, u32> =
            Array::try_from(map).map_err(|e| map_err("active", e))?;
        arr.set(slot, instance, 0).map_err(|e| map_err("active", e))
    }

    fn reset_slot(&mut self, slot: u32) -> Result<(), BpfError> {
        let map = self.ebpf.map_mut("syscalls").ok_or(BpfError::Map {
            map: "syscalls",
            source: "missing from the object".into(),
        })?;
        let mut syscalls: HashMap<&mut MapData, RawKey, RawBitmap> =
            HashMap::try_from(map).map_err(|e| map_err("syscalls", e))?;
        let keys: Vec<RawKey> = syscalls
            .keys()
            .filter_map(Result::ok)
            .filter(|k| k.target == slot)
            .collect();
        for k in keys {
            let _ = syscalls.remove(&k);
        }
        if self.aa.is_some() {
            self.reset_apparmor_slot(slot)?;
        }
        let nr_cpus = aya::util::nr_cpus().map_err(|(_, e)| map_err("stats", e))?;
        let stats_map = self.ebpf.map_mut("stats").ok_or(BpfError::Map {
            map: "stats",
            source: "missing from the object".into(),
        })?;
        let mut stats: PerCpuArray<&mut MapData, u64> =
            PerCpuArray::try_from(stats_map).map_err(|e| map_err("stats", e))?;
        for stat in 0..STAT_MAX {
            let zeros =
                PerCpuValues::try_from(vec![0u64; nr_cpus]).map_err(|e| map_err("stats", e))?;
            stats
                .set(slot * STAT_MAX + stat, zeros, 0)
                .map_err(|e| map_err("stats", e))?;
        }
        Ok(())
    }

    fn reset_apparmor_slot(&mut self, slot: u32) -> Result<(), BpfError> {
        let map = self.ebpf.map_mut("aa_paths").ok_or(BpfError::Map {
            map: "aa_paths",
            source: "missing from the object".into(),
        })?;
        let mut paths: HashMap<&mut MapData, RawAaKey, u64> =
            HashMap::try_from(map).map_err(|e| map_err("aa_paths", e))?;
        let keys: Vec<RawAaKey> = paths
            .keys()
            .filter_map(Result::ok)
            .filter(|k| k.slot == slot)
            .collect();
        for k in keys {
            let _ = paths.remove(&k);
        }
        let map = self.ebpf.map_mut("aa_slots").ok_or(BpfError::Map {
            map: "aa_slots",
            source: "missing from the object".into(),
        })?;
        let mut slots: Array<&mut MapData, RawAaSlot> =
            Array::try_from(map).map_err(|e| map_err("aa_slots", e))?;
        slots
            .set(slot, RawAaSlot::default(), 0)
            .map_err(|e| map_err("aa_slots", e))
    }

    /// Stops recording `target` and returns what it made. Detaches the tracepoint when no
    /// target is left.
    pub fn stop(&mut self, target: TargetId) -> Result<Recorded, BpfError> {
        let rec = self.snapshot(target);
        // From here on the kernel ignores (and discards) cached bits of this instance.
        self.set_active(target.0, 0)?;
        let cgroups = self
            .slots
            .get_mut(target.0 as usize)
            .and_then(Option::take)
            .unwrap_or_default();
        {
            let mut targets = self.targets_map()?;
            for (id, _) in &cgroups {
                let _ = targets.remove(id);
            }
        }
        for (_, level) in &cgroups {
            if let Some(n) = self.levels.get_mut(level) {
                *n -= 1;
                if *n == 0 {
                    self.levels.remove(level);
                }
            }
        }
        self.write_config()?;
        self.reset_slot(target.0)?;
        if self.slots.iter().all(Option::is_none) && !self.held {
            self.detach()?;
        }
        rec
    }
}
