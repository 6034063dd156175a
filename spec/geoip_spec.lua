-- GeoIP labels of the DNSTT families, for real: test MaxMind DB files
-- written here (spec/support/make_mmdb.pl, Debian's
-- libmaxmind-db-writer-perl, never downloaded), tunnel traffic over lo from
-- several source addresses (the resolvers), and the exposition's country
-- and asn labels checked against what was sent.  With a module built
-- without libmaxminddb, the option must be refused with a clear message.
local proc = require("spec.support.proc")
local expo = require("spec.support.expo")
local dnstt = require("spec.support.dnstt")
local socket = require("socket")

local PORT = 50000 + require("posix.unistd").getpid() % 10000 -- this run's own (see capture_spec)
local DOMAIN = "t.example.com"
local IS_ROOT = require("posix.unistd").geteuid() == 0

describe("geoip", function()
  local dnsagg = require("dnsagg")

  if not dnsagg.geoip then
    it("is refused by a build without libmaxminddb, naming the option", function()
      assert.has_error(function()
        dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = { country = "/x/Country.mmdb" } }
      end, "dnsagg.new: option 'geoip' is not supported by this build (built without libmaxminddb)")
    end)
    return
  end

  local dir
  setup(function()
    dir = proc.tmpdir()
    local out, how, status = proc.run({ "perl", "spec/support/make_mmdb.pl", dir }, { timeout = 60 })
    assert(how == "exited" and status == 0, out)
  end)
  teardown(function() proc.rmtree(dir) end)

  describe("options", function()
    it("need dnstt, a database, known keys; a bad file is an environment failure", function()
      assert.has_error(function() dnsagg.new{ geoip = { country = dir .. "/country.mmdb" } } end,
        "dnsagg.new: option 'geoip' labels the DNSTT metrics: it needs option 'dnstt'")
      assert.has_error(function() dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = {} } end,
        "dnsagg.new: option 'geoip' needs 'country' or 'asn' (a path to a MaxMind DB file)")
      assert.has_error(function()
        dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = { city = dir .. "/country.mmdb" } }
      end, "dnsagg.new: unknown option 'geoip.city'")
      assert.has_error(function() dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = "x" } end,
        "dnsagg.new: option 'geoip' must be a table, not string")
      local agg, err = dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = { asn = dir .. "/none.mmdb" } }
      assert.is_nil(agg)
      assert.are.equal("dnsagg: option 'geoip.asn': cannot open " .. dir
        .. "/none.mmdb: Error opening the specified MaxMind DB file", err)
    end)

    it("show every domain's unmapped series before traffic, with the labels configured", function()
      local agg = assert(dnsagg.new{ dnstt = { domains = { DOMAIN } }, geoip = { asn = dir .. "/asn.mmdb" } })
      local text = agg:render()
      agg:close()
      assert.truthy(text:find('\ndnstt_queries_total{domain="t.example.com",asn="0"} 0\n', 1, true))
      assert.is_nil(text:find("country=", 1, true))  -- no country database, no country label
    end)
  end)

  if not IS_ROOT then
    it("needs root for the capture", function()
      pending("the capture specs need root (CAP_NET_RAW): run `make test` as root, as the CI does")
    end)
    return
  end

  it("labels each tunnel message with its resolver's country and ASN", function()
    math.randomseed(4242)
    local agg = assert(dnsagg.new{
      capture = { interface = "lo", port = PORT },
      dnstt = { domains = { DOMAIN } },
      geoip = { country = dir .. "/country.mmdb", asn = dir .. "/asn.mmdb" },
    })
    local responder = dnstt.responder(socket, "127.0.0.1", PORT)
    -- the resolvers: mapped in both databases, in neither, in the country one only, and IPv6
    local resolvers = {
      { address = "127.0.0.2", country = "DE", asn = "3320", sessions = 2 },
      { address = "127.0.0.3", country = "US", asn = "15169", sessions = 1 },
      { address = "127.0.0.4", country = "ZZ", asn = "0", sessions = 1 },
      { address = "127.0.0.5", country = "FR", asn = "0", sessions = 3 },
    }
    local id = 1
    for _, r in ipairs(resolvers) do
      local client = assert(socket.udp())
      assert(client:setsockname(r.address, 0))
      client:settimeout(5)
      r.queries, r.bytes_in, r.bytes_out = 0, 0, 0
      for _ = 1, r.sessions do
        local cid = dnstt.random_bytes(8)
        for k = 1, 4 do
          local name = dnstt.tunnel_name(cid, k < 4 and dnstt.random_bytes(k * 7) or nil, DOMAIN)
          local qin, qout = responder.exchange(client, dnstt.query(id, name, "TXT"))
          id = id + 1
          r.queries, r.bytes_in, r.bytes_out = r.queries + 1, r.bytes_in + qin, r.bytes_out + qout
        end
      end
      -- not tunnel traffic: no group is made for it
      responder.exchange(client, dnstt.query(id, "www.example.org", "TXT"))
      id = id + 1
      client:close()
    end
    responder.close()
    assert.is_true(agg:sync())
    local text = agg:render()
    local st = agg:stats()
    agg:close()

    local samples = expo.parse(text)
    local total = 0
    for _, r in ipairs(resolvers) do
      local labels = { domain = DOMAIN, country = r.country, asn = r.asn }
      assert.are.equal(r.queries, expo.value(samples, "dnstt_queries_total", labels), r.address)
      assert.are.equal(r.bytes_in, expo.value(samples, "dnstt_bytes_in_total", labels), r.address)
      assert.are.equal(r.bytes_out, expo.value(samples, "dnstt_bytes_out_total", labels), r.address)
      assert.are.equal(r.sessions, expo.value(samples, "dnstt_sessions_total", labels), r.address)
      assert.are.equal(r.sessions, expo.value(samples, "dnstt_active_clients", labels), r.address)
      assert.are.equal(r.sessions, expo.value(samples, "dnstt_peak_clients", labels), r.address)
      total = total + r.queries
    end
    -- one series per group seen (the unmapped group is 127.0.0.4's), nothing else
    local series = 0
    for line in text:gmatch("dnstt_queries_total{[^\n]*") do series = series + 1 end
    assert.are.equal(#resolvers, series)
    assert.are.equal(total, st.dnstt[DOMAIN].queries)
    assert.are.equal(7, st.dnstt[DOMAIN].sessions)
    assert.are.equal(#resolvers, #st.dnstt_groups)
    assert.are.equal(0, st.dnstt_group_overflows)

    local ok, out = expo.promtool_check(text, dir)
    assert(ok, out)
  end)
end)
