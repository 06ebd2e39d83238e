"""
The cluster's changes to Redis, each one Lua script that Redis runs
atomically: claiming a name, logging in and out, joining and parting,
renaming, a room line with its cluster-wide id, a node's heartbeat with the
reaping of dead nodes, and the snapshot a node reads when it (re)connects.

Every script takes the key prefix as its first argument and builds the key
names from it (the same names as L{chatserver.cluster.keys}); the cluster is
one Redis, not a Redis Cluster, so keys need not be declared.

The data:
  - C{users}: hash, name key -> JSON C{{name, node, since, away}}; for an
    account with sessions on several nodes, C{node} is one of them.
  - C{user:U:nodes}: set of the nodes with sessions of the account U.
  - C{user:U:sessions}: hash, session id -> JSON C{{node, door, peer,
    since}}: every session of the account U, on every node (C{/sessions},
    and C{--max-sessions} counts them), each reserved by the claim (or
    C{reserve}) before its login, so that the count holds across nodes.
  - C{node:N:users}: set of the name keys node N has claimed.
  - C{nodes}: hash, node -> its last heartbeat (Redis time, ms).
  - C{rooms}: hash, room key -> JSON C{{name, topic, setter, time}}.
  - C{room:R:members}: hash, name key -> name.
  - C{user:U:rooms}: set of the room keys of user U.
  - C{room:R:lines}: stream of room R's lines, entry id C{N-0} for line id
    N, trimmed to the history's length.
  - C{ids}: the last line id given.
  - C{keep}: seconds a line is kept (C{--history-keep}), set by each node's
    C{hello}: the stream of a room nobody is in expires after that long,
    and lines older than that are taken from a stream's head as lines are
    added.
  - C{node:N:seq}: the last line a node's run had accepted (C{run seq}),
    so a line sent again after a lost reply is kept once.
  - C{presence}: stream of what changes who is where.
  - C{epoch}: a random word set once: a new one means Redis lost its data.
  - C{room:R:maker}: the name key of who made room R (its operator), while
    the room has members.
  - C{moderation}: hash of the moderation state (written by the nodes,
    L{chatserver.cluster.moderation}); its changes go into C{presence}.

Every script that changes a name, a membership or presence checks first
that this node holds the name (C{holds}: its user is this node's, or the
account has sessions on this node too): a node that was taken for dead
(a long stall) and reaped cannot change what is another node's now.
"""

from __future__ import annotations

_LIBRARY = r"""
local P = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function next_line_id(lines)
  -- One past the chat's last id and past the last line of LINES (a stream
  -- kept from before the counter was lost).
  local id = redis.call('INCR', P .. 'ids')
  local top = redis.call('XREVRANGE', lines, '+', '-', 'COUNT', 1)
  if top[1] then
    local topId = tonumber(string.match(top[1][1], '^(%d+)'))
    if topId >= id then
      id = topId + 1
      redis.call('SET', P .. 'ids', id)
    end
  end
  return id
end

local function line_time(t)
  return t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
end

local function announce(...)
  redis.call('XADD', P .. 'presence', 'MAXLEN', '~', '100000', '*', ...)
end

local function owner(key)
  local cur = redis.call('HGET', P .. 'users', key)
  if not cur then return nil end
  return cjson.decode(cur).node
end

-- A room nobody is in is gone: its lines are kept --history-keep long.
-- Whether node holds the name key: its user is node's, or an account
-- with sessions on node too.
local function holds(key, node)
  local held = owner(key)
  if held == node then return true end
  if not held then return false end
  return redis.call('SISMEMBER', P .. 'user:' .. key .. ':nodes', node) == 1
end

local function add_session(key, node, id, info)
  redis.call('HSET', P .. 'user:' .. key .. ':sessions', id, info)
  announce('t', 'session', 'node', node, 'k', key, 's', id, 'i', info)
end

local function end_session(key, node, id, holder)
  redis.call('HDEL', P .. 'user:' .. key .. ':sessions', id)
  announce('t', 'unsession', 'node', node, 'k', key, 's', id, 'owner', holder)
end

local function leave_room(room, key)
  local members = P .. 'room:' .. room .. ':members'
  redis.call('HDEL', members, key)
  if redis.call('HLEN', members) == 0 then
    redis.call('HDEL', P .. 'rooms', room)
    redis.call('DEL', P .. 'room:' .. room .. ':maker')
    local keep = tonumber(redis.call('GET', P .. 'keep') or '0')
    if keep > 0 then
      redis.call('EXPIRE', P .. 'room:' .. room .. ':lines', keep)
    end
  end
end

local function enter_room(room)
  redis.call('PERSIST', P .. 'room:' .. room .. ':lines')
end

-- Take a user out of everything; returns its rooms.
local function release(key, node)
  redis.call('HDEL', P .. 'users', key)
  redis.call('SREM', P .. 'node:' .. node .. ':users', key)
  local rooms = redis.call('SMEMBERS', P .. 'user:' .. key .. ':rooms')
  for _, room in ipairs(rooms) do leave_room(room, key) end
  redis.call('DEL', P .. 'user:' .. key .. ':rooms', P .. 'user:' .. key .. ':nodes',
             P .. 'user:' .. key .. ':sessions')
  return rooms
end

-- node gives up the name key.  Returns true if it stays online: an account
-- with sessions on other nodes (node's sessions end, and the user's entry
-- is another node's if it was node's); false if node was the last.
local function leave_node(key, node)
  local nodes = P .. 'user:' .. key .. ':nodes'
  redis.call('SREM', nodes, node)
  local others = redis.call('SMEMBERS', nodes)
  if #others == 0 then return false end
  redis.call('SREM', P .. 'node:' .. node .. ':users', key)
  local info = cjson.decode(redis.call('HGET', P .. 'users', key))
  if info.node == node then
    info.node = others[1]
    redis.call('HSET', P .. 'users', key, cjson.encode(info))
  end
  local sessions = redis.call('HGETALL', P .. 'user:' .. key .. ':sessions')
  for i = 1, #sessions, 2 do
    if cjson.decode(sessions[i + 1]).node == node then
      end_session(key, node, sessions[i], info.node)
    end
  end
  return true
end

local function reap(node)
  local keys = redis.call('SMEMBERS', P .. 'node:' .. node .. ':users')
  for _, key in ipairs(keys) do
    local cur = redis.call('HGET', P .. 'users', key)
    if cur and holds(key, node) and not leave_node(key, node) then
      local user = cjson.decode(cur)
      do
        local rooms = release(key, node)
        announce('t', 'lost', 'node', node, 'k', key, 'n', user.name,
                 'rooms', cjson.encode(rooms))
      end
    end
  end
  redis.call('DEL', P .. 'node:' .. node .. ':users', P .. 'node:' .. node .. ':seq',
             P .. 'node:' .. node .. ':inbox')
  redis.call('HDEL', P .. 'nodes', node)
end
"""

CLAIM = r"""
-- ARGV: prefix, key, node, user JSON, most sessions of an account (0 for a
-- guest's name), and for an account the session id and JSON the login
-- will have.  {1, the presence stream's last id, 1 if the account is
-- online on another node too, its sessions then (a flat hash)} if the name
-- is now this node's (what a node reads up to before it uses a name it knew
-- as another's), -1 if the account has its most sessions, else 0.  An
-- account's session is reserved here, counted and kept in one step (its
-- login announces it): two logins at the same moment on two nodes cannot
-- both pass the most.
local key, node, most = ARGV[2], ARGV[3], tonumber(ARGV[5] or '0')
local held = owner(key)
local shared, others = 0, {}
local sessions = P .. 'user:' .. key .. ':sessions'
if held and held ~= node then
  if most == 0 then return 0 end
  if (cjson.decode(redis.call('HGET', P .. 'users', key)).account or '') == '' then
    return 0
  end
  shared = 1
  others = redis.call('HGETALL', sessions)
end
if most > 0 and redis.call('HLEN', sessions) >= most then return -1 end
if shared == 0 then redis.call('HSET', P .. 'users', key, ARGV[4]) end
redis.call('SADD', P .. 'node:' .. node .. ':users', key)
if most > 0 then redis.call('SADD', P .. 'user:' .. key .. ':nodes', node) end
if most > 0 and (ARGV[6] or '') ~= '' then
  redis.call('HSET', sessions, ARGV[6], ARGV[7])
end
local top = redis.call('XREVRANGE', P .. 'presence', '+', '-', 'COUNT', 1)
if top[1] then return {1, top[1][1], shared, others} end
return {1, '0-0', shared, others}
"""

UNCLAIM = r"""
-- ARGV: prefix, key, node.  Free a claimed name nobody used.
local key, node = ARGV[2], ARGV[3]
if not holds(key, node) then return 0 end
if not leave_node(key, node) then release(key, node) end
return 1
"""

LOGIN = r"""
-- ARGV: prefix, key, node, user JSON, session id and JSON (empty for a
-- guest).  An account online on another node is not announced again:
-- only its new session is.
local key, node = ARGV[2], ARGV[3]
if not holds(key, node) then return 0 end
if owner(key) == node then
  redis.call('HSET', P .. 'users', key, ARGV[4])
  announce('t', 'login', 'node', node, 'k', key, 'u', ARGV[4])
end
if (ARGV[5] or '') ~= '' then add_session(key, node, ARGV[5], ARGV[6]) end
return 1
"""

RESERVE = r"""
-- ARGV: prefix, key, node, most sessions, session id, its JSON (empty to
-- give the reservation back).  Reserve one more session of an account
-- this node holds, counted over every node in the same step as it is
-- kept (its login announces it): 1, or -1 if the account has its most
-- sessions, 0 if this node does not hold it.  A reservation given back
-- is told as a session that ended, for a node whose snapshot held it.
local key, node = ARGV[2], ARGV[3]
local sessions = P .. 'user:' .. key .. ':sessions'
if ARGV[6] == '' then
  if redis.call('HEXISTS', sessions, ARGV[5]) == 1 then
    end_session(key, node, ARGV[5], owner(key) or '')
  end
  return 1
end
if not holds(key, node) then return 0 end
if redis.call('HLEN', sessions) >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', sessions, ARGV[5], ARGV[6])
return 1
"""

SESSION = r"""
-- ARGV: prefix, key, node, session id, its JSON (empty to end it).  One
-- more session of an account on this node, or one of several ended.
local key, node = ARGV[2], ARGV[3]
if not holds(key, node) then return 0 end
if ARGV[5] == '' then
  end_session(key, node, ARGV[4], owner(key))
else
  add_session(key, node, ARGV[4], ARGV[5])
end
return 1
"""

LOGOUT = r"""
-- ARGV: prefix, key, node, name, reason.  2 if the account stays online
-- on another node (only this node's sessions end), 1 if it left.
local key, node = ARGV[2], ARGV[3]
if not holds(key, node) then return 0 end
if leave_node(key, node) then return 2 end
local rooms = release(key, node)
announce('t', 'logout', 'node', node, 'k', key, 'n', ARGV[4], 'reason', ARGV[5],
         'rooms', cjson.encode(rooms))
return 1
"""

RENAME = r"""
-- ARGV: prefix, old key, new key, node, old name, new user JSON.
-- Both names must be this node's (the new one claimed; an account's only
-- changes case, and may be held by other nodes too): 0 and nothing
-- changed if not (this node was taken for dead and its user lost).
-- The event carries the user (its session) and its rooms, for a node
-- that no longer knows the old name.
local old, new, node = ARGV[2], ARGV[3], ARGV[4]
if not holds(old, node) or not holds(new, node) then return 0 end
local user = cjson.decode(ARGV[6])
if old ~= new then
  redis.call('HDEL', P .. 'users', old)
  redis.call('SREM', P .. 'node:' .. node .. ':users', old)
end
redis.call('HSET', P .. 'users', new, ARGV[6])
redis.call('SADD', P .. 'node:' .. node .. ':users', new)
local rooms = redis.call('SMEMBERS', P .. 'user:' .. old .. ':rooms')
local named = {}
for _, room in ipairs(rooms) do
  local members = P .. 'room:' .. room .. ':members'
  redis.call('HDEL', members, old)
  redis.call('HSET', members, new, user.name)
  local meta = redis.call('HGET', P .. 'rooms', room)
  local name = room
  if meta then name = cjson.decode(meta).name end
  table.insert(named, {room, name})
end
if old ~= new and #rooms > 0 then
  redis.call('RENAME', P .. 'user:' .. old .. ':rooms', P .. 'user:' .. new .. ':rooms')
end
announce('t', 'rename', 'node', node, 'k', old, 'n', ARGV[5], 'nk', new,
         'nn', user.name, 'u', ARGV[6], 'rooms', cjson.encode(named))
return 1
"""

AWAY = r"""
-- ARGV: prefix, key, node, user JSON.
local key, node = ARGV[2], ARGV[3]
if not holds(key, node) then return 0 end
local info = cjson.decode(redis.call('HGET', P .. 'users', key))
info.away = cjson.decode(ARGV[4]).away
if info.node == node then info = cjson.decode(ARGV[4]) end
redis.call('HSET', P .. 'users', key, cjson.encode(info))
announce('t', 'away', 'node', node, 'k', key, 'away', cjson.decode(ARGV[4]).away)
return 1
"""

JOIN = r"""
-- ARGV: prefix, room key, room name, key, name, node.
-- Returns the id of the room's last line: the new member's place.  An
-- account in the room already (its sessions on another node) is not
-- announced again.
local room, key, node = ARGV[2], ARGV[4], ARGV[6]
if not holds(key, node) then return redis.error_reply('NOTOWNER ' .. key) end
local new = redis.call('HSET', P .. 'room:' .. room .. ':members', key, ARGV[5])
redis.call('SADD', P .. 'user:' .. key .. ':rooms', room)
enter_room(room)
redis.call('HSETNX', P .. 'rooms', room,
           cjson.encode({name = ARGV[3], topic = '', setter = '', time = 0}))
if new == 1 then
  announce('t', 'join', 'node', node, 'room', room, 'k', key, 'n', ARGV[5],
           'rn', cjson.decode(redis.call('HGET', P .. 'rooms', room)).name)
end
local top = redis.call('XREVRANGE', P .. 'room:' .. room .. ':lines', '+', '-',
                       'COUNT', 1)
if top[1] then return top[1][1] end
return '0-0'
"""

PART = r"""
-- ARGV: prefix, room key, key, name, node, reason.  Nothing if the
-- member left already (its sessions on another node took it out).
local room, key, node = ARGV[2], ARGV[3], ARGV[5]
if not holds(key, node) then return 0 end
if redis.call('HEXISTS', P .. 'room:' .. room .. ':members', key) == 0 then
  return 0
end
redis.call('SREM', P .. 'user:' .. key .. ':rooms', room)
leave_room(room, key)
announce('t', 'part', 'node', node, 'room', room, 'k', key, 'n', ARGV[4],
         'reason', ARGV[6])
return 1
"""

LINE = r"""
-- ARGV: prefix, room key, most lines kept, node, run, seq, room name, kind,
-- sender, text, notice, tags JSON, sender's key, sender's session.
-- Returns the line's id, or 0 if this run's line seq was kept already, or
-- if its sender's name is another node's now (a stalled node's line).
local room, node, run, seq = ARGV[2], ARGV[4], ARGV[5], tonumber(ARGV[6])
if owner(ARGV[13]) and not holds(ARGV[13], node) then return 0 end
local seqKey = P .. 'node:' .. node .. ':seq'
local last = redis.call('GET', seqKey)
if last then
  local lastRun, lastSeq = string.match(last, '^(%S+) (%d+)$')
  if lastRun == run and tonumber(lastSeq) >= seq then return 0 end
end
redis.call('SET', seqKey, run .. ' ' .. seq)
local lines = P .. 'room:' .. room .. ':lines'
local id = next_line_id(lines)
local t = redis.call('TIME')
local time = line_time(t)
-- Lines past --history-keep leave from the head, a few for each line added.
local keep = tonumber(redis.call('GET', P .. 'keep') or '0')
if keep > 0 then
  local cutoff = tonumber(t[1]) - keep
  for _, entry in ipairs(redis.call('XRANGE', lines, '-', '+', 'COUNT', 8)) do
    local f = entry[2]
    local at = nil
    for i = 1, #f, 2 do
      if f[i] == 't' then at = tonumber(f[i + 1]) end
    end
    if at == nil or at >= cutoff then break end
    redis.call('XDEL', lines, entry[1])
  end
end
redis.call('XADD', lines, 'MAXLEN', ARGV[3], id .. '-0', 'r', ARGV[7], 'k', ARGV[8],
           's', ARGV[9], 'x', ARGV[10], 't', time, 'n', ARGV[11], 'g', ARGV[12],
           'o', node, 'q', ARGV[6], 'u', ARGV[14])
if keep > 0 and redis.call('HLEN', P .. 'room:' .. room .. ':members') == 0 then
  -- A line kept while Redis was away, of a room that is gone since.
  redis.call('EXPIRE', lines, keep)
end
if ARGV[8] == 'topic' then
  local meta = redis.call('HGET', P .. 'rooms', room)
  if meta then
    local info = cjson.decode(meta)
    info.topic, info.setter, info.time = ARGV[10], ARGV[9], tonumber(time)
    redis.call('HSET', P .. 'rooms', room, cjson.encode(info))
  end
  announce('t', 'topic', 'node', node, 'room', room, 'topic', ARGV[10],
           'setter', ARGV[9], 'time', time)
end
return id
"""

PRIVATE = r"""
-- ARGV: prefix, conversation key, most lines kept, node, recipient's name,
-- kind, sender, text.  Keeps a private line between two accounts in its
-- conversation's stream, read as a room's; returns its id.
local lines = P .. 'room:' .. ARGV[2] .. ':lines'
local id = next_line_id(lines)
local time = line_time(redis.call('TIME'))
redis.call('XADD', lines, 'MAXLEN', ARGV[3], id .. '-0', 'r', ARGV[5], 'k', ARGV[6],
           's', ARGV[7], 'x', ARGV[8], 't', time, 'n', '0', 'o', ARGV[4])
local keep = tonumber(redis.call('GET', P .. 'keep') or '0')
if keep > 0 then
  -- A conversation nobody speaks in for --history-keep is forgotten.
  redis.call('EXPIRE', lines, keep)
end
return id
"""

SYNC = r"""
-- ARGV: prefix, node, state JSON: a list of {key, user (JSON), rooms,
-- sessions} with rooms a list of {key, name} and sessions a list of {id,
-- info (JSON)} (empty for a guest): everyone logged in on this node.
-- Makes Redis hold exactly that for this node: names it no longer has are
-- freed, rooms its users left are left, and the rest is claimed and joined
-- again, each change announced.  An account online on other nodes too is
-- theirs as well: this node adds its sessions, and its rooms (it may not
-- know every room the others joined meanwhile, so leaves none).  Returns,
-- per user, {key, 1 and the room places} or {key, 0} if another node has
-- its name now.
local node = ARGV[2]
local state = cjson.decode(ARGV[3])
local nodeUsers = P .. 'node:' .. node .. ':users'
local wanted = {}
for _, u in ipairs(state) do wanted[u.key] = true end
for _, key in ipairs(redis.call('SMEMBERS', nodeUsers)) do
  if not wanted[key] then
    local cur = redis.call('HGET', P .. 'users', key)
    if cur and holds(key, node) then
      if not leave_node(key, node) then
        local rooms = release(key, node)
        announce('t', 'logout', 'node', node, 'k', key, 'n', cjson.decode(cur).name,
                 'reason', 'Quit', 'rooms', cjson.encode(rooms))
      end
    else
      redis.call('SREM', nodeUsers, key)
    end
  end
end
local result = {}
for _, u in ipairs(state) do
  local held = owner(u.key)
  local shared = false
  if held and held ~= node and #u.sessions > 0 then
    local cur = cjson.decode(redis.call('HGET', P .. 'users', u.key))
    shared = (cur.account or '') ~= ''
  end
  if held and held ~= node and not shared then
    table.insert(result, {u.key, 0})
  else
    if not shared then redis.call('HSET', P .. 'users', u.key, u.user) end
    redis.call('SADD', nodeUsers, u.key)
    if not held then
      announce('t', 'login', 'node', node, 'k', u.key, 'u', u.user)
    end
    local sessions = P .. 'user:' .. u.key .. ':sessions'
    if #u.sessions > 0 then
      redis.call('SADD', P .. 'user:' .. u.key .. ':nodes', node)
      local here = {}
      for _, s in ipairs(u.sessions) do
        here[s.id] = true
        if redis.call('HEXISTS', sessions, s.id) == 0 then
          add_session(u.key, node, s.id, s.info)
        end
      end
      local kept = redis.call('HGETALL', sessions)
      for i = 1, #kept, 2 do
        if not here[kept[i]] and cjson.decode(kept[i + 1]).node == node then
          end_session(u.key, node, kept[i], owner(u.key))
        end
      end
    end
    local name = cjson.decode(u.user).name
    local userRooms = P .. 'user:' .. u.key .. ':rooms'
    local want = {}
    for _, r in ipairs(u.rooms) do want[r.key] = true end
    for _, room in ipairs(redis.call('SMEMBERS', userRooms)) do
      if not want[room] and not shared then
        redis.call('SREM', userRooms, room)
        leave_room(room, u.key)
        announce('t', 'part', 'node', node, 'room', room, 'k', u.key, 'n', name,
                 'reason', 'Part')
      end
    end
    local places = {}
    for _, r in ipairs(u.rooms) do
      local members = P .. 'room:' .. r.key .. ':members'
      if redis.call('HEXISTS', members, u.key) == 0 then
        redis.call('HSET', members, u.key, name)
        redis.call('SADD', userRooms, r.key)
        enter_room(r.key)
        redis.call('HSETNX', P .. 'rooms', r.key,
                   cjson.encode({name = r.name, topic = '', setter = '', time = 0}))
        announce('t', 'join', 'node', node, 'room', r.key, 'k', u.key, 'n', name,
                 'rn', r.name)
      end
      local top = redis.call('XREVRANGE', P .. 'room:' .. r.key .. ':lines', '+', '-',
                             'COUNT', 1)
      local place = '0-0'
      if top[1] then place = top[1][1] end
      table.insert(places, r.key)
      table.insert(places, place)
    end
    table.insert(result, {u.key, 1, places})
  end
end
return result
"""

BEAT = r"""
-- ARGV: prefix, node, ms without a heartbeat before a node is dead.
-- Returns {whether this node was known, the nodes reaped now}.  Only a node
-- that has been beating reaps: after Redis itself was away (or this node
-- was), everyone's last beat is old, and each gets time to beat again.
local node, deadline = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local previous = redis.call('HGET', P .. 'nodes', node)
local known = 0
if previous then known = 1 end
redis.call('HSET', P .. 'nodes', node, now)
local reaped = {}
if not previous or now - tonumber(previous) > deadline / 2 then
  return {known, reaped}
end
local beats = redis.call('HGETALL', P .. 'nodes')
for i = 1, #beats, 2 do
  if beats[i] ~= node and now - tonumber(beats[i + 1]) > deadline then
    reap(beats[i])
    table.insert(reaped, beats[i])
  end
end
return {known, reaped}
"""

GOODBYE = r"""
-- ARGV: prefix, node.  A node that stops leaves: its heartbeat, and any
-- user still claimed, go.
reap(ARGV[2])
return 1
"""

HELLO = r"""
-- ARGV: prefix, a new epoch word, the highest line id this node has seen,
-- seconds a line is kept (0: for ever).
-- Returns the epoch: another word than the node knew means Redis lost its
-- data.  Line ids never go back below what a node has seen.
redis.call('SET', P .. 'keep', ARGV[4])
local epoch = redis.call('GET', P .. 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', P .. 'epoch', epoch)
end
local ids = tonumber(redis.call('GET', P .. 'ids') or '0')
if ids < tonumber(ARGV[3]) then redis.call('SET', P .. 'ids', ARGV[3]) end
return epoch
"""

SNAPSHOT = r"""
-- ARGV: prefix.  Returns {presence's last id, users, rooms, members,
-- sessions}: users and rooms as flat hashes, members and the accounts'
-- sessions as {room or name key, flat hash} pairs.
local top = redis.call('XREVRANGE', P .. 'presence', '+', '-', 'COUNT', 1)
local last = '0-0'
if top[1] then last = top[1][1] end
local rooms = redis.call('HGETALL', P .. 'rooms')
local members = {}
for i = 1, #rooms, 2 do
  table.insert(members, {rooms[i],
                         redis.call('HGETALL', P .. 'room:' .. rooms[i] .. ':members')})
end
local users = redis.call('HGETALL', P .. 'users')
local sessions = {}
for i = 1, #users, 2 do
  local each = redis.call('HGETALL', P .. 'user:' .. users[i] .. ':sessions')
  if #each > 0 then table.insert(sessions, {users[i], each}) end
end
return {last, users, rooms, members, sessions}
"""

HOLDER = r"""
-- ARGV: prefix, key.  {user JSON, {room key, room name} pairs} of the name
-- as the cluster holds it now, or 0 if nobody holds it.
local key = ARGV[2]
local cur = redis.call('HGET', P .. 'users', key)
if not cur then return 0 end
local named = {}
for _, room in ipairs(redis.call('SMEMBERS', P .. 'user:' .. key .. ':rooms')) do
  local meta = redis.call('HGET', P .. 'rooms', room)
  local name = room
  if meta then name = cjson.decode(meta).name end
  table.insert(named, {room, name})
end
return {cur, named}
"""

MODERATE = r"""
-- ARGV: prefix, then a moderation message's fields (its node among them).
announce(unpack(ARGV, 2))
return 1
"""

EXPIRE = r"""
-- ARGV: prefix, field, value.  Forget a ban that ended if it is still the
-- one kept: 1 for the one node that did.
local field = ARGV[2]
if redis.call('HGET', P .. 'moderation', field) ~= ARGV[3] then return 0 end
redis.call('HDEL', P .. 'moderation', field)
return 1
"""

MAKER = r"""
-- ARGV: prefix, room key, key, node.  1 if the user (this node's) is the
-- room's maker: the first to make it since it last had no member.
local room, key, node = ARGV[2], ARGV[3], ARGV[4]
if not holds(key, node) then return 0 end
if redis.call('HEXISTS', P .. 'room:' .. room .. ':members', key) == 0 then
  return 0
end
local made = redis.call('SET', P .. 'room:' .. room .. ':maker', key, 'NX')
if made then return 1 end
return 0
"""

SCRIPTS = {
    name: _LIBRARY + body
    for name, body in {
        "claim": CLAIM,
        "unclaim": UNCLAIM,
        "login": LOGIN,
        "reserve": RESERVE,
        "session": SESSION,
        "logout": LOGOUT,
        "rename": RENAME,
        "away": AWAY,
        "join": JOIN,
        "part": PART,
        "line": LINE,
        "private": PRIVATE,
        "sync": SYNC,
        "beat": BEAT,
        "goodbye": GOODBYE,
        "hello": HELLO,
        "snapshot": SNAPSHOT,
        "holder": HOLDER,
        "moderate": MODERATE,
        "expire": EXPIRE,
        "maker": MAKER,
    }.items()
}
"""
Each script's whole text (the shared functions first), by name.
"""
