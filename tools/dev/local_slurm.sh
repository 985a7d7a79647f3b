#!/usr/bin/env bash
# A real single-node Slurm cluster on this host, for the Slurm tests and for trying
# tools/slurm_train.sh without a cluster. Debian or Ubuntu, as root.
#   bash tools/dev/local_slurm.sh start    # install slurm-wlm and munge if needed, start
#   bash tools/dev/local_slurm.sh stop
# One partition, `debug`, with every CPU of the host; jobs may be requeued.
# A host that already has a Slurm configuration is left alone.
set -euo pipefail
ACTION=${1:-start}
CONF=/etc/slurm/slurm.conf
MARK='# written by mst_mm tools/dev/local_slurm.sh'

if [ "$ACTION" = stop ]; then
    pkill -x slurmd || true
    pkill -x slurmctld || true
    pkill -x munged || true
    for _ in $(seq 100); do pgrep -x 'slurmd|slurmctld|munged' >/dev/null || break; sleep 0.2; done
    exit 0
fi
[ "$ACTION" = start ] || { sed -n 2,6p "$0"; exit 2; }

if [ "$(id -u)" != 0 ]; then
    echo "local_slurm.sh: needs root (it installs packages and starts daemons)" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "Installing slurm-wlm and munge ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    echo "local_slurm.sh: $CONF exists and is not ours; using the cluster it configures."
    exit 0
fi

HOST=$(hostname -s)
# nproc alone honours OMP_NUM_THREADS: a shell with OMP_NUM_THREADS=1 would declare one CPU
# and every two-task job would wait forever ("partition configuration not available").
CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > "$CONF" <<EOF
$MARK
ClusterName=mstmm
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
JobRequeue=1
# A requeued job waits cred_expire seconds before it starts again (default 120).
AuthInfo=cred_expire=10
KillWait=30
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF

if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --force --keyfile /etc/munge/munge.key
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
munge_up() { timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; }
if ! munge_up; then
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge_up && break; sleep 0.2; done
    munge_up || { echo "local_slurm.sh: munged did not start" >&2; exit 1; }
fi
timeout 5 scontrol ping 2>/dev/null | grep -q UP || timeout 60 /usr/sbin/slurmctld -c
pgrep -x slurmd >/dev/null || timeout 60 /usr/sbin/slurmd

for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
        echo "Slurm is up: partition debug, node $HOST, $CPUS CPUs."
        exit 0
    fi
    sleep 0.5
done
echo "local_slurm.sh: the node did not come up; see /var/log/slurm/" >&2
sinfo >&2 || true
exit 1
