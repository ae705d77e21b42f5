-- POST /payments/orders with an order id no other request uses (wrk's Lua, one state per thread).
local counter = 0
local prefix = "o"

function setup(thread)
  thread:set("tid", tostring(math.random(1, 1000000000)))
end

function init(args)
  prefix = (args[1] or "run") .. "-" .. tid
end

function request()
  counter = counter + 1
  local body = string.format('{"order_id": "%s-%d", "amount": 0.01}', prefix, counter)
  return wrk.format("POST", "/payments/orders", {["Content-Type"] = "application/json"}, body)
end
