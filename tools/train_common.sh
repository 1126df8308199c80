# Shared by the training chains (sourced, not run): paths, thread budget and the resumable train().
export IMAGESMITH_DATA="${IMAGESMITH_DATA:-../shared/datasets}"
PY=.venv/bin/python
IS=.venv/bin/imagesmith
THREADS="${THREADS:-1}"  # leave a core for other work while a run trains in the background

# train NAME RECIPE [--set ...]: a new run in runs/NAME; an unfinished one (checkpoint, no model/)
# is resumed exactly; a finished one is left alone.
train() {
  local name=$1 recipe=$2; shift 2
  if [ -f "runs/$name/last.pt" ] && [ ! -d "runs/$name/model" ]; then
    $IS train --resume "runs/$name" --set threads="$THREADS" "$@"
  elif [ ! -d "runs/$name/model" ]; then
    $IS train "$recipe" --run-dir "runs/$name" --set threads="$THREADS" "$@"
  fi
}

# release RUN NAME [options]: measure a finished run and add it to the zoo (its card and index).
release() {
  $IS release "$@" --threads "$THREADS"
}

# stage NAME RECIPE ZOO_NAME [release options]: train (or resume) runs/NAME, then release it.
stage() {
  local name=$1 recipe=$2 zoo=$3; shift 3
  train "$name" "$recipe"
  release "runs/$name" "$zoo" --command "imagesmith train $recipe" "$@"
}
