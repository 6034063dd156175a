-- dnsagg collector for prometheus-node-exporter-lua.
--
-- Loaded once by the exporter (in uhttpd's long-lived parent, or in the old
-- long-lived LuaSocket server).  It starts one aggregator at load time, whose
-- thread reads dnsmasq's log FIFO in that process, and on every scrape writes
-- the tables through the host's metric() API.  Under uhttpd a scrape runs in
-- a forked child: it reads the tables as they were at the fork, which is
-- exactly what a scrape should show.
--
-- Configuration: the Lua file named by DNSAGG_CONFIG (a chunk returning the
-- options of dnsagg.new), else UCI /etc/config/dnsagg (section 'main').
-- Loading never raises: an error here would kill the whole exporter.

-- The same as the package's /etc/config/dnsagg.
local DEFAULTS = {
  fifo = "/var/run/dnsmasq/dnsagg.fifo",
  lock = "/var/run/dnsagg.lock",
  leases = { "/tmp/dhcp.leases" },
}

local NUMBERS = { max_entries = true, max_clients = true, max_series = true }

-- UCI's singular list names for the module's plural options
local LISTS = { exclude_domain = "exclude_domains", include_domain = "include_domains" }

local function from_lua_file(path)
  local chunk, err = loadfile(path)
  if not chunk then
    return nil, "DNSAGG_CONFIG: " .. tostring(err)
  end
  local ok, opts = pcall(chunk)
  if not ok then
    return nil, "DNSAGG_CONFIG " .. path .. ": " .. tostring(opts)
  end
  if type(opts) ~= "table" then
    return nil, "DNSAGG_CONFIG " .. path .. " must return a table of options"
  end
  return opts
end

-- UCI gives strings and lists of strings; dnsagg.new wants numbers, lists,
-- nested tables and false where UCI says '0'.  UCI has no nesting, so the
-- capture, DNSTT and GeoIP options are flat there:
--   capture '1', capture_interface, capture_port, capture_buffer -> capture = { interface, port, buffer }
--   list dnstt_domain, dnstt_active_window, dnstt_max_sessions -> dnstt = { domains, ... }
--                                                     (no dnstt_domain: DNSTT off)
--   geoip_country, geoip_asn (paths)                  -> geoip = { country, asn }
-- and the lists are singular there: list exclude_domain, list include_domain.
local NESTED = {
  capture_interface = { "capture", "interface" },
  capture_port = { "capture", "port", tonumber },
  capture_buffer = { "capture", "buffer", tonumber },
  dnstt_domain = { "dnstt", "domains" },
  dnstt_active_window = { "dnstt", "active_window", tonumber },
  dnstt_max_sessions = { "dnstt", "max_sessions", tonumber },
  geoip_country = { "geoip", "country" },
  geoip_asn = { "geoip", "asn" },
}

local function from_uci(section)
  if section.enabled == "0" then
    return false -- switched off: no aggregator, scrapes write nothing
  end
  local opts = {}
  -- queries 'packets': counted from the capture, which it switches on; the
  -- FIFO's options (the package's defaults set them) are left out
  local packets = section.queries == "packets"
  local capture = section.capture == "1" or packets
  for key, value in pairs(section) do
    local nested = NESTED[key]
    if key:sub(1, 1) == "." or key == "enabled" or key == "capture" then
      -- UCI's own fields, and switches handled here
    elseif packets and (key == "fifo" or key == "lock" or key == "dnsmasq_pidfile") then
      -- the log's options: no FIFO is read
    elseif (key == "fold" or key == "max_series") and (value == "0" or value == "") then
      -- '0': no folding, no cap (the module's defaults)
    elseif nested then
      local name, field, convert = nested[1], nested[2], nested[3]
      if name ~= "capture" or capture then
        opts[name] = opts[name] or {}
        if field == "domains" and type(value) == "string" then value = { value } end
        opts[name][field] = convert and (convert(value) or value) or value
      end
    elseif NUMBERS[key] then
      opts[key] = tonumber(value) or value
    elseif LISTS[key] then
      opts[LISTS[key]] = type(value) == "string" and { value } or value
    elseif key == "fold" then
      opts[key] = tonumber(value) or value -- '2' (labels) or 'psl'
    elseif key == "dnsmasq_pidfile" and (value == "0" or value == "") then
      opts[key] = false
    else
      opts[key] = value
    end
  end
  if capture then
    opts.capture = opts.capture or {}
  end
  if opts.dnstt and not opts.dnstt.domains then
    opts.dnstt = nil -- the window and bound of no domain: DNSTT is off
  end
  return opts
end

local function load_options()
  local path = os.getenv("DNSAGG_CONFIG")
  if path and path ~= "" then
    return from_lua_file(path)
  end
  local has_uci, uci = pcall(require, "uci")
  if has_uci then
    local cursor = uci.cursor()
    local section = cursor and cursor:get_all("dnsagg", "main")
    if section then
      return from_uci(section)
    end
  end
  return DEFAULTS
end

local function start()
  local has_module, dnsagg = pcall(require, "dnsagg")
  if not has_module then
    return nil, "cannot load the dnsagg module: " .. tostring(dnsagg)
  end
  local opts, err = load_options()
  if opts == false then
    return false
  elseif not opts then
    return nil, err
  end
  local ok, agg, msg = pcall(dnsagg.new, opts)
  if not ok then
    return nil, agg
  end
  return agg, msg
end

local aggregator, failure = start()
if aggregator == nil then
  io.stderr:write("dnsagg: ", tostring(failure), "\n")
end

local function scrape()
  if aggregator == false then
    return
  elseif not aggregator then
    -- the host reports node_scrape_collector_success{collector="dnsagg"} 0
    error(failure, 0)
  end
  aggregator:export(metric)
end

return { scrape = scrape }
