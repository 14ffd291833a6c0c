#!/usr/bin/env bash
# scripts/training-photos.sh OUT_DIR: a folder of training photos for `kpt train --model keypointnet
# --images OUT_DIR`, made of symbolic links to the images that three Debian packages ship:
#
#   plasma-workspace-wallpapers   KDE Plasma wallpapers (photos and renders, large)
#   ukui-wallpapers               UKUI desktop wallpapers (photos)
#   python3-skimage               scikit-image's sample images (skimage/data)
#
# Files are found with `dpkg -L PACKAGE`, never by looking around /usr/share/backgrounds: other
# packages install there too, and some of them are the EVALUATION images of kpt (opencv-doc,
# gnome-backgrounds, mate-backgrounds, lomiri-wallpapers*), which must never be trained on.
# Missing packages are installed with apt-get when run as root; otherwise the script names them.
# Links are named PACKAGE/<file name> (a number is added when two files share a name); for the
# Plasma wallpapers, which ship each picture at several resolutions, one file per wallpaper is
# linked. scikit-image's tiny or deliberately broken test fixtures are left out. Running it again
# on the same OUT_DIR refreshes the links.
set -euo pipefail

PACKAGES=(plasma-workspace-wallpapers ukui-wallpapers python3-skimage)
# Evaluation data: a package list or a path naming one of these is refused.
FORBIDDEN_RE='opencv-doc|gnome-backgrounds|mate-backgrounds|lomiri-wallpapers'

usage() {
  echo "usage: scripts/training-photos.sh OUT_DIR" >&2
  echo "  makes OUT_DIR/<package>/... symbolic links to the images of: ${PACKAGES[*]}" >&2
}
if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  usage
  [[ $# -eq 1 ]] && exit 0 || exit 2
fi
out=$1

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "training-photos: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "training-photos: these packages are missing: ${missing[*]}" >&2
    echo "  install them first:  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# scikit-image's test fixtures that are not photos: tiny (10x10 and smaller, 102x102) or broken on
# purpose (truncated.jpg).
SKIMAGE_SKIP_RE='/(block|checker_bilevel|foo3x5x4indexed|palette_color|palette_gray|microaneurysms|truncated)\.'

# The files of package $1 to link, one per line.
select_files() {
  local p=$1
  local all
  all=$(dpkg -L "$p" | grep -iE '\.(png|jpe?g|ppm|pgm)$' | sort)
  case "$p" in
    plasma-workspace-wallpapers)
      # Each wallpaper ships one picture at several resolutions (NAME/contents/images/WxH.ext) plus
      # a screenshot: take one per wallpaper, the smallest landscape one at least 1280 wide (enough
      # for 240x320 training, and quick to decode), else the largest.
      local dir
      for dir in $(grep -E '/contents/images/[0-9]+x[0-9]+\.[a-zA-Z]+$' <<<"$all" | sed 's|/contents/images/.*||' | sort -u); do
        grep -F "$dir/contents/images/" <<<"$all" | awk -F/ '{
            split($NF, s, /[x.]/); w = s[1] + 0; h = s[2] + 0;
            good = (w >= h && w >= 1280) ? 0 : 1;          # preferred first
            key = good ? -(w * h) : (w * h);              # smallest preferred, else largest
            printf "%d %015d %s\n", good, key + 500000000, $0 }' | sort | head -n 1 | cut -d' ' -f3-
      done
      ;;
    python3-skimage) grep '/skimage/data/' <<<"$all" | grep -vE "$SKIMAGE_SKIP_RE" || true ;;
    *) printf '%s\n' "$all" ;;
  esac
}

mkdir -p "$out"
total=0
for p in "${PACKAGES[@]}"; do
  dest="$out/$p"
  rm -rf "$dest"
  mkdir -p "$dest"
  n=0
  while IFS= read -r f; do
    [[ -n "$f" && -f "$f" ]] || continue
    if [[ "$f" =~ $FORBIDDEN_RE ]]; then
      echo "training-photos: refusing '$f' (evaluation data)" >&2
      continue
    fi
    name=$(basename "$f")
    # plasma: name the link after the wallpaper, not its resolution
    [[ "$p" == plasma-workspace-wallpapers ]] && name="$(basename "$(dirname "$(dirname "$(dirname "$f")")")").${f##*.}"
    link="$dest/$name"
    k=1
    while [[ -e "$link" || -L "$link" ]]; do
      link="$dest/${name%.*}-$k.${name##*.}"
      k=$((k + 1))
    done
    ln -s "$f" "$link"
    n=$((n + 1))
  done < <(select_files "$p")
  echo "training-photos: $p: $n images" >&2
  total=$((total + n))
done

if ((total == 0)); then
  echo "training-photos: no images found in ${PACKAGES[*]}" >&2
  exit 1
fi
echo "training-photos: $total images linked under $out" >&2
echo "  train with: build/bin/kpt train --model keypointnet --images $out --out runs/kp2d" >&2
