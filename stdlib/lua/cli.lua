-- The management commands of the pocketdock binary, on the public Lua API.
local pd = require("pocketdock")
local M = {}

function M.main(...)
  local args = {...}
  io.stderr:write("pocketdock: management commands are not available in this build\n")
  return 1
end

return M
