#!/bin/sh
# tool: a tiny helper baked into the tools image by scripts/recipes/tools.lua.
case "$1" in
  --init) mkdir -p /opt/app/state && echo "initialised by $(id -u)" > /opt/app/state/init.txt ;;
  *) echo "tool: APP_ENV=${APP_ENV:-unset} in $(pwd)" ;;
esac
