#!/bin/sh
# Trunk's post-build hook (Trunk.toml): writes the embeddable component into
# the build, next to the app it loads:
#   twinscape-scene.js   the custom element, naming the app's (hashed) module;
#   twinscape-scene.css  the scene's styles (web/scene.css and the app's
#                        colours), nested under the element so that they
#                        touch nothing else in the page.
set -eu
src="${TRUNK_SOURCE_DIR:-.}"
out="${TRUNK_STAGING_DIR:?run by trunk}"
module=$(cd "$out" && ls twinscape-web*.js | grep -v '\.gz$' | head -n 1)
[ -n "$module" ] || { echo "post-build: no app module in $out" >&2; exit 1; }
wasm="${module%.js}_bg.wasm"
[ -f "$out/$wasm" ] || { echo "post-build: no $wasm in $out" >&2; exit 1; }
sed -e "s/__TWINSCAPE_MODULE__/$module/" -e "s/__TWINSCAPE_WASM__/$wasm/" \
  "$src/web/embed/twinscape-scene.js" > "$out/twinscape-scene.js"
{
  echo ':where(twinscape-scene) { display: block; position: relative; height: 420px; overflow: hidden; }'
  echo 'twinscape-scene {'
  # The app's colours and font (the body of :root in style.css).
  sed -n '/^:root {/,/^}/p' "$src/web/style.css" | sed '1d;$d'
  echo '  & * { box-sizing: border-box; }'
  echo '  & .twinscape-scene-root, & .twinscape-embed { position: absolute; inset: 0; }'
  cat "$src/web/scene.css"
  echo '}'
} > "$out/twinscape-scene.css"
