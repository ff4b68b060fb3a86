-- wrk: PUT one manifest under a new tag each time (bench/bench.sh).
-- Arguments after "--": the manifest file.
local threads = 0
function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

function init(args)
    local f = assert(io.open(args[1], "rb"))
    body = f:read("*a")
    f:close()
    n = 0
end

function request()
    n = n + 1
    return wrk.format("PUT", wrk.path .. "w" .. id .. "-" .. n,
        { ["Content-Type"] = "application/vnd.oci.image.manifest.v1+json" },
        body)
end
