-- JSON for scripts (pocketdock.json) and the management commands' --json
-- output. encode is here; decode is Go (stdlib/json.go), added by the loader.
-- Tables with a positive length, or marked with json.array, are arrays.
local M = {}

local array_mt = {}

-- null stands for JSON null where nil cannot: decode gives it for null
-- (so arrays keep their length and objects their keys), encode writes it as null.
M.null = setmetatable({}, {
  __tostring = function() return "pocketdock.json.null" end,
  __newindex = function() error("pocketdock.json.null cannot be changed", 2) end,
  __metatable = false,
})

-- array marks a table as a JSON array (so an empty list prints as []).
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local escapes = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local encode

local function encode_table(t, out)
  if getmetatable(t) == array_mt or #t > 0 then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = quote(k) .. ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode(v, out)
  end
  out[#out + 1] = "}"
end

function encode(v, out)
  local ty = type(v)
  if ty == "nil" or v == M.null then out[#out + 1] = "null"
  elseif ty == "boolean" then out[#out + 1] = tostring(v)
  elseif ty == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif v == math.floor(v) and math.abs(v) < 1e15 then out[#out + 1] = string.format("%d", v)
    else out[#out + 1] = string.format("%.14g", v) end
  elseif ty == "string" then out[#out + 1] = quote(v)
  elseif ty == "table" then encode_table(v, out)
  else out[#out + 1] = quote(tostring(v)) end
end

-- encode returns v as JSON text.
function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

return M, array_mt
