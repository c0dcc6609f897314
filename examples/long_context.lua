-- examples/long_context.lua: time and memory against the sequence length for three 8-layer GPTs
-- that differ only in their attention: softmax everywhere (the fused blocked SDPA, a KV cache
-- that grows with the length), lightning everywhere (MiniMax-01: a constant (h, d, d) state per
-- layer) and the MiniMax 7:1 hybrid (layout "LLLLLLLS": seven lightning layers, one softmax).
--
--   tide examples/long_context.lua --quick      small lengths (what the tests run)
--   tide examples/long_context.lua              1K .. 256K where time and memory allow (~8 min)
--   options: --out DIR (default runs/long_context), --max N (longest length), --budget SEC,
--            --chunk T (prefill T tokens per forward; 0: the whole prompt in one forward),
--            --in-process (measure every model in this process instead of one child each)
--
-- For each model and length N (doubling), it prefills N tokens into a fresh cache (no autograd;
-- chunked, --chunk tokens per forward, 8192 in full mode, as serving stacks do: the working
-- set of one forward then stays the size of a chunk instead of growing with N), then decodes
-- tokens one at a time from that cache and reports:
--   prefill seconds (best of up to 3); decode seconds per token (the fastest of the decoded
--   tokens: on a shared machine the least disturbed one); the cache's tensor bytes (KV rows for
--   softmax layers, the state for lightning layers); tide.memory_allocated() after the prefill;
--   the peak resident set of the prefill (VmHWM from /proc/self/status, reset before each run
--   through /proc/self/clear_refs when the kernel allows it).
-- Every model is measured up to --always (64K in full mode) unless its cache would not fit;
-- beyond that it stops growing N when its next prefill is predicted to exceed --budget seconds,
-- or its cache to exceed a quarter of the free memory.
-- Each model runs in a child process of its own (this script, re-run with --only): memory the
-- allocator keeps after one model's long prefills would otherwise count in the next model's
-- resident set.
-- Checks (printed): lightning's prefill grows linearly (slope of log time against log N over the
-- longer lengths close to 1; softmax tends to 2) and its per-token decode cost stays flat
-- (slope close to 0; softmax grows with the cache). Outputs: results.jsonl, prefill.svg,
-- decode.svg, memory.svg (log-log axes).
--
-- What the full run measured (2026-11-27, 2 shared cores, 4.2 min, chunks of 8192; details in
-- docs/attention.md):
--   N       prefill s: softmax / lightning / hybrid    decode ms/token: softmax / lightning / hybrid
--   1K                 0.086  /  0.088    / 0.091                        2.13  /  1.61     / 1.74
--   16K                6.67   /  1.05     / 1.74                         14.3  /  0.93     / 3.11
--   64K                90.8   /  4.35     / 15.2                         56.6  /  0.83     / 7.70
--   256K               -      /  16.1     / -                            -     /  0.90     / -
--   lightning prefill ~ N^0.99, decode per token ~ N^0.02 (fit over 8K .. 256K): both checks yes;
--   lightning's peak RSS 137-139 MiB from 16K to 256K

local o = tide.util.args(arg, {{"--quick"}, {"--out DIR", "string", "runs/long_context"}, {"--max N", "int"},
                               {"--budget SEC", "number"}, {"--in-process"}, {"--chunk T", "int"},
                               {"--only MODEL", "string", help = "internal: the child process for one model"}})
local quick, out, max_arg, budget_arg, only, in_process = o.quick, o.out, o.max, o.budget, o.only, o.in_process

local cfg = quick and {dim = 64, heads = 1, layers = 8, min_len = 256, max_len = 4096, always = 1024, budget = 2.0, decode = 8}
                   or {dim = 128, heads = 2, layers = 8, min_len = 1024, max_len = 262144, always = 65536, budget = 90, decode = 24}
cfg.max_len = max_arg or cfg.max_len
cfg.budget = budget_arg or cfg.budget
cfg.chunk = o.chunk or (quick and 1024 or 8192)
if cfg.chunk < 0 then error("long_context: --chunk expects 0 (no chunking) or a positive token count, got " .. cfg.chunk) end

local models = {
  {name = "softmax", layout = "S", id = "softmax"},
  {name = "lightning", layout = "L", id = "lightning"},
  {name = "hybrid 7:1", layout = "LLLLLLLS", id = "hybrid"},
}
if only then
  local keep
  for _, m in ipairs(models) do if m.id == only then keep = m end end
  if not keep then error("long_context: --only expects softmax, lightning or hybrid, got '" .. only .. "'") end
  models = {keep}
end

---------------------------------------------------------------------------------------------
-- memory probes

local function status(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local kb = s:match(field .. ":%s*(%d+)")
  return kb and tonumber(kb) * 1024 or nil
end
local function meminfo(field)
  local f = io.open("/proc/meminfo")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local kb = s:match(field .. ":%s*(%d+)")
  return kb and tonumber(kb) * 1024 or nil
end
-- reset the peak RSS (Linux: writing 5 to clear_refs); false when not allowed
local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if not f then return false end
  local ok = f:write("5")
  f:close()
  return ok and true or false
end

local function cache_bytes(caches)
  local n = 0
  for _, c in ipairs(caches) do
    for _, key in ipairs({"k", "v", "state"}) do
      local t = c[key]
      if t then n = n + t:numel() * (t:dtype() == "f64" and 8 or 4) end
    end
  end
  return n
end

-- least-squares slope of log y against log x
local function loglog_slope(xs, ys)
  local n, sx, sy, sxx, sxy = #xs, 0, 0, 0, 0
  for k = 1, n do
    local x, y = math.log(xs[k]), math.log(ys[k])
    sx, sy, sxx, sxy = sx + x, sy + y, sxx + x * x, sxy + x * y
  end
  return (n * sxy - sx * sy) / (n * sxx - sx * sx)
end

---------------------------------------------------------------------------------------------

local free = meminfo("MemAvailable") or 8 * 2 ^ 30
if not only then
  print(("%d-layer GPTs, dim %d, %d heads of %d, vocab 256; lengths %d .. %d (all models up to %d); budget %.0f s per prefill beyond; prefill %s; %.1f GiB available")
    :format(cfg.layers, cfg.dim, cfg.heads, cfg.dim // cfg.heads, cfg.min_len, cfg.max_len, math.min(cfg.always, cfg.max_len),
            cfg.budget, cfg.chunk > 0 and ("in chunks of " .. cfg.chunk .. " tokens") or "in one forward", free / 2 ^ 30))
end
local can_reset = reset_peak()
if not can_reset then print("(peak RSS cannot be reset here: the VmHWM column is the process peak so far)") end

-- measures one model over the lengths; writes its rows to log, returns the columns
local function measure(m, log)
  tide.manual_seed(1)
  local gpt = tide.models.GPT{vocab = 256, dim = cfg.dim, heads = cfg.heads, layers = cfg.layers, max_len = cfg.max_len,
                              layout = m.layout}
  gpt:eval()
  local kv_per_token = gpt:kv_cache_bytes_per_token()
  local r = {name = m.name, N = {}, prefill = {}, decode = {}, cache = {}, allocated = {}, peak = {}}
  print(("\n%s (layout %s): KV cache %d bytes per token, lightning state %d bytes"):format(m.name, m.layout, kv_per_token,
    (function() local s = 0; for _, b in ipairs(gpt.blocks) do s = s + b.attn:state_bytes() end; return s end)()))
  print(("%9s %11s %15s %12s %14s %12s"):format("N", "prefill s", "decode ms/tok", "cache MiB", "allocated MiB", "peak RSS MiB"))
  local N, last_t, prev_t = cfg.min_len, nil, nil
  while N <= cfg.max_len do
    -- predicted prefill time from the growth of the last two lengths
    if last_t and N > cfg.always then
      local growth = prev_t and math.max(2, last_t / prev_t) or 4
      if last_t * growth > cfg.budget then
        print(("%9d   skipped: predicted prefill %.0f s > budget %.0f s"):format(N, last_t * growth, cfg.budget)); break
      end
    end
    if kv_per_token * N > free / 4 then
      print(("%9d   skipped: a %.1f GiB cache would not fit comfortably"):format(N, kv_per_token * N / 2 ^ 30)); break
    end
    collectgarbage(); collectgarbage()
    tide.empty_cache()
    local idx = tide.randint(1, 257, {1, N}, {generator = tide.Generator(N)})
    -- best of up to 3 prefills (one when a prefill takes over half a second): the machine
    -- may be shared, and the least disturbed run is the closest to the cost itself
    local best, caches = math.huge, nil
    for rep = 1, 3 do
      if rep > 1 and best > 0.5 then break end
      caches = nil
      collectgarbage()
      if can_reset then reset_peak() end
      local t0 = tide.clock()
      caches = gpt:new_cache()
      tide.no_grad(function()
        local step = cfg.chunk > 0 and cfg.chunk or N
        for c0 = 1, N, step do gpt(idx:narrow(2, c0, math.min(step, N - c0 + 1)), caches) end
      end)
      best = math.min(best, tide.clock() - t0)
    end
    local peak = status("VmHWM") or 0
    collectgarbage()
    local allocated = tide.memory_allocated()
    local cb = cache_bytes(caches)
    -- decode: one token at a time from the prefilled cache
    local times = {}
    local nxt = tide.tensor({{65}})
    tide.no_grad(function()
      for _ = 1, cfg.decode do
        local t0 = tide.clock()
        gpt(nxt, caches)
        times[#times + 1] = tide.clock() - t0
      end
    end)
    table.sort(times)
    local dec = times[1]   -- the least disturbed step (see the prefill)
    caches = nil
    local rec = {model = m.name, N = N, prefill_s = best, decode_s_per_token = dec, cache_bytes = cb,
                 allocated_bytes = allocated, peak_rss_bytes = peak}
    log:write(rec)
    r.N[#r.N + 1], r.prefill[#r.prefill + 1], r.decode[#r.decode + 1] = N, best, dec
    r.cache[#r.cache + 1], r.allocated[#r.allocated + 1], r.peak[#r.peak + 1] = cb, allocated, peak
    print(("%9d %11.4f %15.3f %12.2f %14.1f %12.1f"):format(N, best, dec * 1e3, cb / 2 ^ 20, allocated / 2 ^ 20, peak / 2 ^ 20))
    prev_t, last_t = last_t, best
    N = N * 2
  end
  return r
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local results = {}
if only then                                  -- the child: one model, rows to its own file
  local log = tide.train.Logger(out .. "/results_" .. only .. ".jsonl")
  measure(models[1], log)
  log:close()
  return
end
local log = tide.train.Logger(out .. "/results.jsonl")
local exe, script = arg[-1], arg[0]
local spawn = not in_process and exe ~= nil and script ~= nil
for mi, m in ipairs(models) do
  if spawn then
    io.stdout:flush()
    local cmd = {shell_quote(exe), shell_quote(script), "--only", m.id, "--out", shell_quote(out),
                 "--max", cfg.max_len, "--budget", cfg.budget, "--chunk", cfg.chunk}
    if quick then cmd[#cmd + 1] = "--quick" end
    local ok, how, code = os.execute(table.concat(cmd, " "))
    if not ok then error(("long_context: the child for %s failed (%s %s)"):format(m.name, tostring(how), tostring(code))) end
    local part = out .. "/results_" .. m.id .. ".jsonl"
    local r = {name = m.name, N = {}, prefill = {}, decode = {}, cache = {}, allocated = {}, peak = {}}
    for _, rec in ipairs(tide.train.read_jsonl(part)) do
      log:write(rec)
      r.N[#r.N + 1], r.prefill[#r.prefill + 1], r.decode[#r.decode + 1] = rec.N, rec.prefill_s, rec.decode_s_per_token
      r.cache[#r.cache + 1], r.allocated[#r.allocated + 1], r.peak[#r.peak + 1] = rec.cache_bytes, rec.allocated_bytes, rec.peak_rss_bytes
    end
    os.remove(part)
    results[mi] = r
  else
    results[mi] = measure(m, log)
  end
end
log:close()

---------------------------------------------------------------------------------------------
-- checks: slopes on log-log axes over the longer half of each model's lengths

print("")
local slopes = {}
for _, r in ipairs(results) do
  local from = math.max(1, #r.N // 2)
  local xs, yp, yd = {}, {}, {}
  for k = from, #r.N do xs[#xs + 1] = r.N[k]; yp[#yp + 1] = r.prefill[k]; yd[#yd + 1] = r.decode[k] end
  if #xs >= 2 then
    slopes[r.name] = {prefill = loglog_slope(xs, yp), decode = loglog_slope(xs, yd), from = xs[1], to = xs[#xs]}
    print(("%-11s prefill time ~ N^%.2f, decode time per token ~ N^%.2f (fit over N = %d .. %d)")
      :format(r.name, slopes[r.name].prefill, slopes[r.name].decode, xs[1], xs[#xs]))
  end
end
local L = slopes.lightning
if L then
  local lin, flat = L.prefill < 1.2, L.decode < 0.2
  print(("lightning prefill grows linearly (slope %.2f < 1.2): %s"):format(L.prefill, lin and "yes" or "NO"))
  print(("lightning decode cost per token stays flat (slope %.2f < 0.2): %s"):format(L.decode, flat and "yes" or "NO"))
end
local S, lr = results[1], results[2]
local common = math.min(S.N[#S.N] or 0, lr.N[#lr.N] or 0)
for k, n in ipairs(S.N) do
  if n == common then
    for k2, n2 in ipairs(lr.N) do
      if n2 == n then
        print(("at N = %d: lightning prefill %.1fx faster than softmax, decode %.1fx faster, cache %.0fx smaller"):format(n,
          S.prefill[k] / lr.prefill[k2], S.decode[k] / lr.decode[k2], S.cache[k] / math.max(lr.cache[k2], 1)))
      end
    end
  end
end

local function series(field, scale)
  local s = {}
  for mi, r in ipairs(results) do
    local y = {}
    for k, v in ipairs(r[field]) do y[k] = v * (scale or 1) end
    s[mi] = {name = r.name, x = r.N, y = y}
  end
  return s
end
tide.plot.line{title = "prefill time against sequence length", xlabel = "sequence length N", ylabel = "seconds",
               logx = true, logy = true, series = series("prefill")}:save(out .. "/prefill.svg")
tide.plot.line{title = "decode time per token after a prefill of N tokens", xlabel = "cached length N",
               ylabel = "milliseconds per token", logx = true, logy = true, series = series("decode", 1e3)}:save(out .. "/decode.svg")
local mem = series("cache", 1 / 2 ^ 20)
for mi, r in ipairs(results) do
  local y = {}
  for k, v in ipairs(r.peak) do y[k] = v / 2 ^ 20 end
  mem[#mem + 1] = {name = r.name .. " (peak RSS)", x = r.N, y = y}
  mem[mi].name = r.name .. " (cache tensors)"
end
tide.plot.line{title = "memory against sequence length", xlabel = "sequence length N", ylabel = "MiB",
               logx = true, logy = true, series = mem}:save(out .. "/memory.svg")
print(("\nwrote %s/results.jsonl, %s/prefill.svg, %s/decode.svg, %s/memory.svg"):format(out, out, out, out))
