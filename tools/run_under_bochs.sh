#!/bin/bash
# Runs a kpt test program on an emulated AVX-512 CPU (Bochs), for machines without one: the
# AVX-512 kernels are compiled on every x86-64 build but run only where the CPU has them.
#
#   tools/run_under_bochs.sh [--cpu MODEL] [--bochs PATH] PROGRAM [ARGS...]
#   e.g. tools/run_under_bochs.sh --bochs ~/bochs/bochs build/bin/kpt_tests_parity --log_level=test_suite
#
# The program, its shared libraries, tests/data and ../shared/data/hpatches go into an initramfs;
# a Debian kernel boots it in Bochs with one CPU of MODEL (default corei7_skylake_x: AVX-512
# F/CD/DQ/BW/VL); the program's output comes back on the serial port and its exit status is this
# script's. Expect the program to run 100-200 times slower than natively. docs/performance.md, "The
# AVX-512 kernels on an emulated CPU", says which Bochs works (Debian's 2.7 does not) and how to
# build it.
# Needs (apt-get): busybox-static isolinux syslinux-common genisoimage cpio. Works in build/bochs
# (KPT_BOCHS_DIR to change it), where serial.log and bochs.log stay for a look after the run.
set -euo pipefail

usage() { echo "usage: $0 [--cpu MODEL] [--bochs PATH] PROGRAM [ARGS...]" >&2; exit 2; }
cpu=corei7_skylake_x
bochs=bochs
while [[ $# -gt 0 ]]; do
  case $1 in
    --cpu) cpu=${2:?--cpu needs a Bochs CPU model (bochs --help cpu lists them)}; shift 2 ;;
    --bochs) bochs=${2:?--bochs needs the path of a bochs binary}; shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || usage
program=$(readlink -f "$1"); shift
[[ -x $program ]] || { echo "$0: $program is not an executable program: build it first (make build)" >&2; exit 2; }
command -v "$bochs" >/dev/null || { echo "$0: no bochs at '$bochs': pass --bochs PATH" >&2; exit 2; }
if "$bochs" --help cpu 2>&1 | grep -q 'Emulator 2\.[0-7]'; then
  echo "$0: $bochs is Bochs 2.7 or older, which faults on valid AVX code: build Bochs from source" \
       "(docs/performance.md, \"The AVX-512 kernels on an emulated CPU\")" >&2
  exit 2
fi
for tool in genisoimage cpio; do
  command -v $tool >/dev/null || { echo "$0: $tool is missing: apt-get install busybox-static isolinux syslinux-common genisoimage cpio" >&2; exit 2; }
done
busybox=/bin/busybox
[[ -f /usr/lib/ISOLINUX/isolinux.bin && -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ]] || { echo "$0: isolinux is missing: apt-get install isolinux syslinux-common" >&2; exit 2; }
[[ -x $busybox ]] && ! ldd $busybox >/dev/null 2>&1 || { echo "$0: $busybox is not a static busybox: apt-get install busybox-static" >&2; exit 2; }

root_dir=$(cd "$(dirname "$0")/.." && pwd)
work=${KPT_BOCHS_DIR:-$root_dir/build/bochs}
mkdir -p "$work"

# A Debian kernel, unpacked from its package once (the running kernel's image may not be readable).
kernel=$work/vmlinuz
if [[ ! -f $kernel ]]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [[ -n $pkg ]] || { echo "$0: apt-cache knows no linux-image-amd64: run apt-get update" >&2; exit 2; }
  (cd "$work" && rm -f ./*.deb && apt-get download "$pkg" >"$work/apt.log" 2>&1 && dpkg -x ./*.deb kernel-pkg && rm -f ./*.deb) ||
    { cat "$work/apt.log" >&2; echo "$0: could not unpack the kernel package $pkg" >&2; exit 2; }
  cp "$work"/kernel-pkg/boot/vmlinuz-* "$kernel.tmp" && mv "$kernel.tmp" "$kernel" && rm -rf "$work/kernel-pkg"
fi

# The initramfs: busybox, the program at its own path (tests find tests/data by absolute path),
# its libraries, and an init that runs it and powers off.
root=$work/root
rm -rf "$root" && mkdir -p "$root"/{bin,proc,sys,dev,tmp} "$root$(dirname "$program")" "$root$root_dir/tests"
cp $busybox "$root/bin/busybox"
for applet in sh mount poweroff sync cat grep sleep; do ln -s busybox "$root/bin/$applet"; done
strip -o "$root$program" "$program"
for lib in $(ldd "$program" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
done
cp -r "$root_dir/tests/data" "$root$root_dir/tests/"
# The HPatches sequences some unit tests read, where the project's checkout keeps them.
if [[ -d $root_dir/../shared/data/hpatches ]]; then
  shared=$(cd "$root_dir/../shared/data" && pwd)
  mkdir -p "$root$shared" && cp -r "$shared/hpatches" "$root$shared/"
fi
{
  echo '#!/bin/sh'
  echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
  echo 'echo "== cpu $(grep -m1 ^flags /proc/cpuinfo)"'
  printf 'cd %q && %q' "$(dirname "$program")" "$program"
  for a in "$@"; do printf ' %q' "$a"; done
  echo
  # The pause lets the serial port send the status line before the power goes.
  echo 'echo "== exit status $?"; sync; sleep 2; poweroff -f'
} > "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"

iso=$work/iso
rm -rf "$iso" && mkdir -p "$iso/isolinux"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
cp "$kernel" "$iso/vmlinuz" && mv "$work/initrd.gz" "$iso/initrd.gz"
cat > "$iso/isolinux/isolinux.cfg" <<'EOF'
DEFAULT kpt
PROMPT 0
TIMEOUT 0
LABEL kpt
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0,115200 mitigations=off tsc=reliable quiet loglevel=3
EOF
genisoimage -quiet -o "$work/kpt.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
  -boot-load-size 4 -boot-info-table -J -R "$iso"

bios=$(dirname "$(readlink -f "$(command -v "$bochs")")")/bios/BIOS-bochs-latest
[[ -f $bios ]] || bios=/usr/share/bochs/BIOS-bochs-latest
vgabios=/usr/share/vgabios/vgabios.bin
[[ -f $vgabios ]] || vgabios=$(dirname "$bios")/VGABIOS-lgpl-latest
cat > "$work/bochsrc" <<EOF
cpu: model=$cpu, count=1, ips=200000000
memory: guest=3072, host=3072
romimage: file=$bios
vgaromimage: file=$vgabios
ata0-master: type=cdrom, path=$work/kpt.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.log
clock: sync=none, time0=local
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
rm -f "$work/serial.log"
echo "booting $(basename "$program") on an emulated $cpu (serial output: $work/serial.log)" >&2
"$bochs" -q -f "$work/bochsrc" </dev/null >"$work/bochs.out" 2>&1 || true
[[ -f $work/serial.log ]] || { echo "$0: the guest wrote nothing: see $work/bochs.log and $work/bochs.out" >&2; exit 1; }
sed -n '/^== cpu flags/,$p' "$work/serial.log" | tr -d '\r'
status=$(sed -n 's/^== exit status \([0-9]*\).*/\1/p' "$work/serial.log" | tail -1)
[[ -n $status ]] || { echo "$0: the program did not finish (crashed guest or bochs): see $work/bochs.log" >&2; exit 1; }
exit "$status"
