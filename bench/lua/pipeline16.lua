-- Sends 16 GET requests back to back on each connection before reading the
-- replies (HTTP/1.1 pipelining); wrk counts each reply as one request.
local depth = 16

init = function(args)
  local parts = {}
  for i = 1, depth do
    parts[i] = wrk.format("GET", "/")
  end
  batch = table.concat(parts)
end

request = function()
  return batch
end
