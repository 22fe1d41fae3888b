//! The command line: global flags and one subcommand per verb.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// spoc — record, validate, convert, merge and run security profiles without Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "spoc", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags that apply to every subcommand.
    #[command(flatten)]
    pub global: Global,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// More log output on stderr (-v info, -vv debug). `SPOC_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// Format of data printed on stdout (default: YAML for manifests, text for reports).
    #[arg(long = "output", global = true, value_enum)]
    pub format: Option<Format>,
    /// Runtime seccomp JSON (moby, containers-common) is evaluated for this architecture
    /// (`SCMP_ARCH_X86_64`, `x86_64` or Go's `amd64`; default: this host).
    #[arg(long, global = true, value_name = "ARCH")]
    pub arch: Option<String>,
    /// ... for a container with these capabilities (comma-separated `CAP_*`; default: the
    /// runtimes' default set of 14).
    #[arg(long, global = true, value_delimiter = ',', value_name = "CAPS")]
    pub caps: Option<Vec<String>>,
    /// ... on this kernel, `major.minor` (default: this host's).
    #[arg(long, global = true, value_name = "VERSION")]
    pub kernel: Option<String>,
    /// Largest input accepted, in bytes; suffixes K, M, G (binary).
    #[arg(long, global = true, default_value = "16M", value_name = "SIZE", value_parser = parse_size)]
    pub max_input_size: u64,
}

/// `16M` → 16 MiB.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 16M)"))?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{s:?}: unknown unit (use K, M or G)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

impl Global {
    /// The format for manifests: YAML unless `--output json`.
    pub fn data_format(&self) -> Format {
        self.format.unwrap_or(Format::Yaml)
    }
}

/// Machine-readable output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// YAML (Kubernetes manifests).
    Yaml,
    /// JSON; several documents form one JSON array.
    Json,
    /// JSON Lines: one compact JSON document per line.
    Jsonl,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print version information.
    #[command(visible_alias = "v")]
    Version(VersionArgs),
    /// Check profiles and report every problem (exit 1 when invalid, 2 when unreadable).
    Validate(ValidateArgs),
    /// Convert profiles: a SeccompProfile to raw OCI seccomp JSON, or raw JSON back to a
    /// SeccompProfile.
    #[command(visible_alias = "c")]
    Convert(ConvertArgs),
    /// Merge profiles of one kind into their union.
    #[command(visible_alias = "m")]
    Merge(MergeArgs),
    /// Run a command under a seccomp profile.
    #[command(visible_alias = "x")]
    Run(RunArgs),
    /// Record the syscalls a command makes and write a profile.
    #[command(visible_alias = "r")]
    Record(RecordArgs),
    /// Install an AppArmorProfile: write its policy under /etc/apparmor.d and load it.
    #[command(visible_alias = "i")]
    Install(InstallArgs),
    /// Unload an installed AppArmorProfile and delete its policy file.
    #[command(visible_alias = "rm")]
    Remove(InstallArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page of spoc or of one verb (roff), or write all of them to a directory.
    Man(ManArgs),
    /// Print the seccomp, SELinux and AppArmor audit events of a log, attributed to
    /// containers. `--output json` prints JSON lines, otherwise text.
    #[command(visible_alias = "e")]
    Enrich(EnrichArgs),
    /// Lint profiles: mistakes no validator catches, with rule IDs (exit 1 on findings at or
    /// above the threshold, 2 when an input is unreadable).
    Lint(LintArgs),
    /// Semantic diff of two profiles of the same kind (exit 0 equal, 1 different).
    Diff(DiffArgs),
    /// Is everything profile A allows also allowed by profile B? (exit 0 yes, 1 no; the
    /// witnesses are printed).
    Subset(SubsetArgs),
    /// The intersection of two SeccompProfiles: what both allow.
    Intersect(IntersectArgs),
    /// The compiled filter of a SeccompProfile: instruction counts per architecture and the
    /// instructions a syscall executes in the linear and the binary-tree layout.
    Inspect(InspectArgs),
    /// Push profiles as an OCI artifact in upstream SPO's layout (one layer per platform).
    #[command(visible_alias = "p")]
    Push(crate::cmd::oci::PushArgs),
    /// Pull a profile from an OCI artifact, verifying its cosign signature.
    #[command(visible_alias = "l")]
    Pull(crate::cmd::oci::PullArgs),
    /// Sign an OCI artifact with a cosign key (`sha256-<digest>.sig`, SimpleSigning).
    Sign(crate::cmd::oci::SignArgs),
    /// Verify an OCI artifact's cosign signature with a public key.
    Verify(crate::cmd::oci::VerifyArgs),
    /// Write a cosign key pair (`cosign.key`, encrypted with COSIGN_PASSWORD, and
    /// `cosign.pub`).
    GenerateKeyPair(crate::cmd::oci::KeyPairArgs),
}

/// `spoc install` / `spoc remove` (AppArmor only).
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// `[PROFILE [EXECUTABLE]]`: the AppArmorProfile manifest (default /tmp/profile.yaml) and
    /// the profile name to use (default: metadata.name looked up in PATH, else metadata.name).
    #[arg(value_name = "PROFILE [EXECUTABLE]", num_args = 0..)]
    pub args: Vec<String>,
    /// The apparmor_parser binary (default: /usr/sbin/apparmor_parser or /sbin/apparmor_parser).
    #[arg(long, env = "SPOC_APPARMOR_PARSER", value_name = "PATH")]
    pub apparmor_parser: Option<PathBuf>,
    /// Directory of AppArmor policy files.
    #[arg(
        long,
        env = "SPOC_APPARMOR_DIR",
        default_value = "/etc/apparmor.d",
        value_name = "DIR"
    )]
    pub apparmor_dir: PathBuf,
    /// Root under which /sys is read to check that AppArmor is enabled and what is loaded.
    #[arg(
        long,
        env = "SPOC_HOST_ROOT",
        default_value = "/",
        value_name = "DIR",
        hide = true
    )]
    pub host_root: PathBuf,
}

/// `spoc version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON instead of text.
    #[arg(short, long)]
    pub json: bool,
}

/// `spoc validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Profile files (YAML manifests, multi-document allowed, or raw seccomp JSON); `-` is stdin.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Directory of SeccompProfile manifests used to resolve `baseProfileName`; the directory
    /// of each input file is searched too.
    #[arg(long)]
    pub profiles_dir: Vec<PathBuf>,
    /// Check against an allow-list of syscalls, as the SPOD `allowedSyscalls` does.
    #[arg(long, value_delimiter = ',')]
    pub allowed_syscalls: Vec<String>,
    /// Actions counted as "allowing" for `--allowed-syscalls`.
    #[arg(long, value_delimiter = ',')]
    pub allowed_actions: Vec<String>,
    /// SELinux base policy (CIL) to compile generated SELinux modules against with `secilc`
    /// (when `secilc` is installed).
    #[arg(long)]
    pub selinux_base: Option<PathBuf>,
    /// How `oci://` base profiles are pulled and verified.
    #[command(flatten)]
    pub oci: crate::cmd::oci::OciBaseArgs,
}

/// `spoc convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input file (`-` for stdin). Every document of a multi-document YAML is converted.
    pub file: PathBuf,
    /// Output file (written atomically, mode 0600); stdout when absent.
    #[arg(short = 'o', long = "output-file")]
    pub output_file: Option<PathBuf>,
    /// Name for the SeccompProfile made from raw JSON (default: the file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Resolve `baseProfileName` before converting (searches the input's directory and
    /// `--profiles-dir`).
    #[arg(long)]
    pub resolve: bool,
    /// Extra directories with SeccompProfile manifests for `--resolve`.
    #[arg(long)]
    pub profiles_dir: Vec<PathBuf>,
    /// AppArmor only: the profile name (program path) to render; default `metadata.name`.
    #[arg(short = 'p', long)]
    pub program_name: Option<String>,
    /// How `oci://` base profiles are pulled and verified (with `--resolve`).
    #[command(flatten)]
    pub oci: crate::cmd::oci::OciBaseArgs,
    /// Drop what a SeccompProfile cannot express (raw JSON's `defaultErrnoRet` other than
    /// EPERM) with a warning instead of refusing.
    #[arg(long)]
    pub lossy: bool,
}

/// `spoc merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Profiles to merge; the first one provides metadata and non-merged fields.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output file (written atomically, mode 0600); stdout when absent.
    #[arg(short = 'o', long = "output-file")]
    pub output_file: Option<PathBuf>,
    /// Write nothing; exit 0 when the first profile already covers the others, else print
    /// the merged profile to stderr and exit 1.
    #[arg(short, long)]
    pub check: bool,
}

/// `spoc run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The seccomp profile: SeccompProfile YAML or raw OCI seccomp JSON.
    #[arg(short, long, default_value = "/tmp/profile.yaml")]
    pub profile: PathBuf,
    /// Directory of SeccompProfile manifests used to resolve `baseProfileName`.
    #[arg(long)]
    pub profiles_dir: Vec<PathBuf>,
    /// Do not report audit records of the command after it ends.
    #[arg(long)]
    pub no_audit: bool,
    /// Under sudo, run the command as root instead of the invoking user.
    #[arg(long)]
    pub privileged: bool,
    /// How `oci://` base profiles are pulled and verified.
    #[command(flatten)]
    pub oci: crate::cmd::oci::OciBaseArgs,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// `spoc record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Where to write the profile (default `/tmp/profile.yaml`; `/tmp/profile.json` for
    /// `--type raw-seccomp`).
    #[arg(short = 'o', long = "output-file")]
    pub output_file: Option<PathBuf>,
    /// What to write.
    #[arg(short = 't', long = "type", value_enum, default_value_t = RecordType::Seccomp)]
    pub record_type: RecordType,
    /// Event source: eBPF raw tracepoints, or audit records of a SCMP_ACT_LOG profile.
    #[arg(long, value_enum, default_value_t = Recorder::Bpf)]
    pub recorder: Recorder,
    /// Syscalls always added to the profile (repeatable); replaces the default 83.
    #[arg(short = 'b', long = "base-syscalls")]
    pub base_syscalls: Vec<String>,
    /// Add no base syscalls.
    #[arg(
        short = 'n',
        long = "no-base-syscalls",
        conflicts_with = "base_syscalls"
    )]
    pub no_base_syscalls: bool,
    /// Under sudo, run the command as root instead of the invoking user.
    #[arg(long)]
    pub privileged: bool,
    /// Record an already running process and its descendants until Ctrl-C or its exit.
    #[arg(long, conflicts_with = "command")]
    pub pid: Option<u32>,
    /// Profile name (default: the command's basename).
    #[arg(long)]
    pub name: Option<String>,
    /// The command and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required_unless_present = "pid"
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// `spoc record --type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordType {
    /// A SeccompProfile manifest (YAML).
    Seccomp,
    /// The raw OCI seccomp JSON (2-space indented).
    RawSeccomp,
    /// An AppArmorProfile manifest (YAML) (CLI-06).
    Apparmor,
    /// AppArmor policy text named after the program's absolute path (CLI-06).
    RawApparmor,
    /// The AppArmorProfile YAML, `---`, then the SeccompProfile YAML (CLI-07).
    All,
}

/// `spoc record --recorder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Recorder {
    /// eBPF raw tracepoints (needs root and a kernel with BTF).
    Bpf,
    /// Audit records (`type=1326`) of the command running under a SCMP_ACT_LOG profile.
    Logs,
}

/// `spoc enrich`.
#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// The log to read (default: /var/log/audit/audit.log, else /var/log/syslog).
    pub file: Option<PathBuf>,
    /// Start at the beginning of the file instead of its end.
    #[arg(long)]
    pub from_start: bool,
    /// Stop at the end of the file instead of following it.
    #[arg(long)]
    pub no_follow: bool,
    /// Print only events of processes attributed to a container.
    #[arg(long)]
    pub containers_only: bool,
    /// Node name written into every event (default: the host name).
    #[arg(long)]
    pub node: Option<String>,
    /// JSON map of container ID → {namespace, pod, container, recordProfile} used to fill
    /// the pod fields.
    #[arg(long)]
    pub containers: Option<PathBuf>,
    /// The /proc to attribute PIDs with.
    #[arg(long, default_value = "/proc")]
    pub proc_root: PathBuf,
    /// Filter rules as a JSON array (`logEnricherFilters`, RC-34).
    #[arg(long, default_value = "")]
    pub filters: String,
    /// Print counts (lines, events per kind, malformed, …) as JSON on stderr at the end.
    #[arg(long)]
    pub stats: bool,
}

/// `spoc completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `spoc lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories (searched recursively for *.yaml, *.yml and *.json); `-` is stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long = "format", value_enum, default_value_t = LintFormat::Text)]
    pub report_format: LintFormat,
    /// Report a rule as an error (repeatable); `--deny warnings` makes every warning an error.
    #[arg(long, value_name = "RULE|warnings")]
    pub deny: Vec<String>,
    /// Turn a rule off (repeatable).
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Report a rule as a warning (repeatable).
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Configuration file (default: the nearest .spoc-lint.yaml above each file).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore .spoc-lint.yaml files.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// SPOD-style `allowedSyscalls` policy (adds to the configuration's).
    #[arg(long, value_delimiter = ',')]
    pub allowed_syscalls: Vec<String>,
    /// Actions counted as allowing for `--allowed-syscalls`.
    #[arg(long, value_delimiter = ',')]
    pub allowed_actions: Vec<String>,
    /// SELinux system templates profiles may inherit (`allowedSystemProfiles`).
    #[arg(long, value_delimiter = ',')]
    pub allowed_system_profiles: Vec<String>,
    /// A SecurityProfilesOperatorDaemon manifest whose `allowedSyscalls`,
    /// `allowedSeccompActions` and `selinuxOptions.allowedSystemProfiles` are the policy.
    #[arg(long, value_name = "SPOD.yaml")]
    pub policy: Option<PathBuf>,
    /// Extra directories of SeccompProfiles for `baseProfileName` (each file's directory is
    /// searched too).
    #[arg(long)]
    pub profiles_dir: Vec<PathBuf>,
}

/// `spoc lint --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// rustc-like text (colours on a terminal).
    Text,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// JUnit XML (GitLab, Jenkins).
    Junit,
    /// GitHub Actions workflow commands.
    Github,
}

/// `spoc diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old profile.
    pub a: PathBuf,
    /// The new profile.
    pub b: PathBuf,
}

/// `spoc subset`.
#[derive(Debug, Args)]
pub struct SubsetArgs {
    /// The profile that should be within B.
    pub a: PathBuf,
    /// The bigger profile (e.g. a node baseline).
    pub b: PathBuf,
}

/// `spoc intersect`.
#[derive(Debug, Args)]
pub struct IntersectArgs {
    /// First profile.
    pub a: PathBuf,
    /// Second profile.
    pub b: PathBuf,
    /// Output file (written atomically); stdout when absent.
    #[arg(short = 'o', long = "output-file")]
    pub output_file: Option<PathBuf>,
}

/// `spoc inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The SeccompProfile (or raw seccomp JSON).
    pub profile: PathBuf,
    /// Only this syscall.
    #[arg(long)]
    pub syscall: Option<String>,
}

/// `spoc man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The verb (default: spoc itself).
    pub verb: Option<String>,
    /// Write `spoc.1` and `spoc-VERB.1` for every verb into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "verb")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
