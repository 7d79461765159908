-- A recipe that runs offline on the default image:
--   pocketdock provision scripts/recipes/tools.lua
--   pocketdock create --image localhost/pocketdock/tools:1 --name t && pocketdock exec t -- tool
return {
  base = "localhost/pocketdock/minimal",
  tag = "localhost/pocketdock/tools:1",
  env = {APP_ENV = "dev"},
  workdir = "/opt/app",
  steps = {
    {run = "mkdir -p /opt/app && chown 1000:1000 /opt/app"},
    {write = "/opt/app/config.ini", content = "mode=dev\n", mode = tonumber("644", 8)},
    {push = "files/tool.sh", to = "/usr/local/bin/tool"},
    {run = {"sh", "-c", "tool --init"}, user = "1000", env = {X = "1"}},
  },
}
