-- Argo CD health of an execution-operator.io Execution (Lua 5.1 subset, as Argo CD runs it).
-- Healthy: Succeeded. Degraded: Failed. Suspended: Cancelled (spec.cancel, a deliberate stop).
-- Progressing: no status yet, a spec generation the operator has not acted on, Pending, Running.
local hs = {}
local status = obj.status
local generation = obj.metadata and obj.metadata.generation

if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to start the Execution."
  return hs
end

-- A status written for an older spec says nothing about the current one.
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to run generation " .. tostring(generation) ..
    " (the status describes " .. tostring(status.observedGeneration or "no generation") .. ")."
  return hs
end

local phase = status.phase
local reason = status.reason or phase
local detail = status.message or ""
if phase == "Succeeded" then
  hs.status = "Healthy"
elseif phase == "Failed" then
  hs.status = "Degraded"
elseif phase == "Cancelled" then
  hs.status = "Suspended"
elseif phase == "Pending" or phase == "Running" then
  hs.status = "Progressing"
  reason = phase
else
  hs.status = "Unknown"
  reason = "unknown phase " .. tostring(phase)
end
if detail ~= "" then
  hs.message = reason .. ": " .. detail
else
  hs.message = reason
end
return hs
