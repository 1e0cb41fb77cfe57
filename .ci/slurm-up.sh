#!/usr/bin/env bash
# Start a single-node Slurm cluster on localhost for kerastui's real-cluster tests.
#
# Idempotent: re-running with the cluster already up just waits for the node to be idle.
# Needs root (it writes /etc/slurm and starts daemons). Installs slurm-wlm with apt when
# `sbatch` is missing. Exits 0 once `sinfo` shows the node idle, non-zero otherwise.
#
# Environment:
#   KERASTUI_SLURM_DIR   where state, spool and logs live (default /tmp/kerastui-slurm)
#   SLURM_CONF           config file to write (default /etc/slurm/slurm.conf, where the
#                        Slurm client commands look without any environment)
set -euo pipefail

STATE_DIR="${KERASTUI_SLURM_DIR:-/tmp/kerastui-slurm}"
CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
CONF_DIR="$(dirname "$CONF")"
MARKER="# written by kerastui .ci/slurm-up.sh"
CPUS=2
# Advertise 90% of this machine's memory so jobs asking for --mem are accepted.
MEMORY_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"

log() { echo "slurm-up: $*" >&2; }

if ! command -v sbatch >/dev/null 2>&1 || ! command -v slurmctld >/dev/null 2>&1; then
    log "installing slurm-wlm with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q slurm-wlm
fi

# Never overwrite a real site's configuration.
if [[ -f "$CONF" ]] && ! grep -qF "$MARKER" "$CONF"; then
    log "$CONF exists and was not written by this script; refusing to replace it"
    log "set SLURM_CONF=/tmp/kerastui-slurm/slurm.conf to use a private configuration"
    exit 2
fi

mkdir -p "$CONF_DIR" "$STATE_DIR/ctld" "$STATE_DIR/d" "$STATE_DIR/log"

# Written fresh each time so the file always matches this script (atomic rename).
cat > "$CONF.tmp.$$" <<CONF_EOF
$MARKER
ClusterName=kerastui
SlurmctldHost=localhost
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Keep finished jobs visible to scontrol for 30 minutes (there is no accounting database).
MinJobAge=1800
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=localhost CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF_EOF
mv "$CONF.tmp.$$" "$CONF"
export SLURM_CONF="$CONF"

# A pid file names a live daemon only if that pid still runs the program (pids get reused).
daemon_alive() {
    local pid_file="$STATE_DIR/$1.pid"
    [[ -f "$pid_file" ]] && [[ "$(cat "/proc/$(cat "$pid_file")/comm" 2>/dev/null)" == "$1" ]]
}

if ! daemon_alive slurmctld && ! scontrol ping 2>/dev/null | grep -q "is UP"; then
    log "starting slurmctld"
    slurmctld -f "$CONF"
fi
if ! daemon_alive slurmd; then
    log "starting slurmd"
    slurmd -f "$CONF" -N localhost
fi

for _ in $(seq 1 60); do
    state="$(sinfo -h -n localhost -o %T 2>/dev/null || true)"
    case "$state" in
        idle|mixed|allocated)
            log "node localhost is $state"
            sinfo
            exit 0
            ;;
        down*|drain*)
            # A node that was marked down before (e.g. after a restart) is brought back.
            scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
            ;;
    esac
    sleep 0.5
done

log "node did not become idle in 30 s; last state: '${state:-none}'"
tail -n 20 "$STATE_DIR/log/slurmctld.log" "$STATE_DIR/log/slurmd.log" >&2 || true
exit 1
