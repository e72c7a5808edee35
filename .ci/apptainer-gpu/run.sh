#!/bin/sh
# One device check: the exact `apptainer exec --nv` argv sscontainer writes for a GPU step.
set -u
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
B=/tmp/gpu-b
exec >"$OUT/log.txt" 2>&1
echo "== host"; id; uname -r; head -2 /etc/os-release; ldd --version | head -1
nvidia-smi -L | tee "$OUT/gpus-host.txt"
ls -l /dev/fuse /dev/nvidia* 2>&1 | head; command -v unshare pivot_root mount
echo "== unpack"; rm -rf "$B"; mkdir -p "$B"; tar -C "$B" -xJf "$G/gpub.tar.xz" && echo ok
mkdir -p "$B/bin" && cp "$G/apptainer-nv.sh" "$B/bin/apptainer" && chmod 755 "$B/bin/apptainer"
export PATH="$B/bin:$PATH"
echo "== version"; apptainer --version
echo "== plain exec"; apptainer exec "$B/img" sh -c 'echo inside; id' || echo "plain exec failed: $?"
echo "== the GPU step"; rm -rf /tmp/gpu-run; mkdir -p /tmp/gpu-run/nv; cd /tmp/gpu-run/nv
sh "$G/nv-step.sh"; echo "rc=$?"
for f in gpus-inside.txt hostile.txt libs.txt pwd.txt; do cp "$f" "$OUT/" 2>/dev/null; done
cmp -s hostile.txt "$G/hostile.txt" && echo "hostile value byte-exact" || echo "hostile value DIFFERS"
cmp -s gpus-inside.txt "$OUT/gpus-host.txt" && echo "GPUs inside == GPUs on the host" || echo "GPU lists DIFFER"
cat gpus-inside.txt libs.txt pwd.txt 2>&1 | head -40
