#!/usr/bin/env bash
# Make build/gpucheck/ (23 MB; /build/ is git-ignored): what a GPU machine with no package
# mirror needs to run sscontainer's exact `apptainer exec --nv` argv for a GPU step.
#   - gpub.tar.xz: a minimal Debian 13 rootfs holding Apptainer (from the rootfs that
#     .ci/apptainer-up.sh built here) and a small sandbox image with glibc (for nvidia-smi)
#   - nv-step.sh: wrap_argv(Step(gpus=1, env={"HOSTILE": ...}), "apptainer"), shell-quoted
#   - run.sh, apptainer-nv.sh: the device side (see run.sh)
# Then, on the device: `sh build/gpucheck/run.sh; tail -c 6000 "$OUT/log.txt"`, carrying
# build/gpucheck. Needs root, Apptainer installed by .ci/apptainer-up.sh, busybox-static.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
R=${SSC_APPTAINER_ROOTFS:-/var/cache/sscontainer/apptainer/current}
OUTDIR=$REPO/build/gpucheck
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
L=usr/lib/x86_64-linux-gnu
mkdir -p "$W/rootfs" && cd "$W/rootfs"
mkdir -p usr/bin usr/sbin $L lib64 etc/ld.so.conf.d var/lib/apptainer/mnt/session \
    var/lib/apptainer/mnt/source var/cache/apptainer var/tmp proc sys dev tmp root run home
ln -s usr/lib lib; ln -s usr/bin bin; ln -s usr/sbin sbin
cp -a "$R/usr/bin/apptainer" "$R/usr/bin/squashfuse_ll" usr/bin/
cp -a "$R/$L/apptainer" $L/; cp -a "$R/etc/apptainer" etc/; cp -a "$R/sbin/ldconfig" usr/sbin/
for l in libblkid.so.1 libc.so.6 libcom_err.so.2 libext2fs.so.2 libfuse3.so.4 liblz4.so.1 \
    liblzma.so.5 liblzo2.so.2 libm.so.6 libseccomp.so.2 libsqlite3.so.0 libuuid.so.1 \
    libxxhash.so.0 libz.so.1 libzstd.so.1; do cp -L "$R/$L/$l" $L/; done
cp -L "$R/lib64/ld-linux-x86-64.so.2" lib64/
cp /usr/bin/busybox usr/bin/; for t in sh umount mount cat ls echo mkdir; do ln -sf busybox usr/bin/$t; done
echo /$L >etc/ld.so.conf.d/x86_64.conf; echo 'include /etc/ld.so.conf.d/*.conf' >etc/ld.so.conf
touch etc/passwd etc/group etc/resolv.conf etc/hosts; cp -L "$R/etc/localtime" etc/localtime
mkdir -p "$W/dir" && cd "$W/dir"
mkdir -p usr/bin $L lib64 etc proc sys dev tmp var/tmp work/nv run root home
ln -s usr/lib lib; ln -s usr/bin bin
cp /usr/bin/busybox usr/bin/; for t in sh cat ls echo pwd env; do ln -sf busybox usr/bin/$t; done
for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do cp -L "$R/$L/$l" $L/; done
cp -L "$R/lib64/ld-linux-x86-64.so.2" lib64/; touch etc/passwd etc/group; cp -L "$R/etc/localtime" etc/
cd "$REPO"
apptainer build --sandbox "$W/img" "$W/dir" >/dev/null  # writes /.singularity.d (env scripts)
mkdir -p "$OUTDIR"
tar -C "$W" -cf - rootfs img | xz -T0 -6 >"$OUTDIR/gpub.tar.xz"
cp .ci/apptainer-gpu/run.sh .ci/apptainer-gpu/apptainer-nv.sh "$OUTDIR/"
python3 - "$OUTDIR" <<'PY'
import shlex, sys
from sscontainer.launchers.runtimes import wrap_argv
from sscontainer.launchers.step import Resources, Step
HOSTILE = "a b 'q' \"dq\" $(touch /tmp/pwned) `id` ; x=y, z\nline2 \\ * ${HOME} %s"
cmd = ('nvidia-smi -L > gpus-inside.txt; printf %s "$HOSTILE" > hostile.txt; '
       'ls /.singularity.d/libs > libs.txt; pwd > pwd.txt')
step = Step(name="nv", entity_type="Model", argv=("sh", "-c", cmd), cwd="/tmp/gpu-run/nv",
            out="/tmp/gpu-run/nv/nv.out", err="/tmp/gpu-run/nv/nv.err",
            env={"HOSTILE": HOSTILE}, image="/tmp/gpu-b/img", resources=Resources(gpus=1))
out = sys.argv[1]
with open(f"{out}/nv-step.sh", "w") as handle:
    handle.write("#!/bin/sh\n# wrap_argv(step with gpus=1, 'apptainer')\n")
    handle.write(shlex.join(wrap_argv(step, "apptainer")) + "\n")
with open(f"{out}/hostile.txt", "w") as handle:
    handle.write(HOSTILE)
PY
echo "apptainer-gpu: $OUTDIR ($(du -sh "$OUTDIR" | cut -f1)); on the device:" \
    "sh build/gpucheck/run.sh; tail -c 6000 \"\$OUT/log.txt\"  (carry build/gpucheck)" >&2
