/*
 * berth's web catalog. Plain JavaScript, no build step, nothing fetched
 * but this registry's own paths: the JSON of /v2/_berth/ui/ (README, "The
 * web catalog") and DELETE /v2/<name>/manifests/<tag> for a tag.
 * Views: "#" lists the repositories, "#/r/<name>" the tags of one.
 */
"use strict";

/*
 * Absolute addresses on the page's origin: the page may have been opened
 * as http://user:password@host/ui/, and fetch() refuses a URL with
 * credentials, which a relative one would inherit from the page's.
 */
const API = location.origin + "/v2/_berth/ui/repositories";
const $ = (id) => document.getElementById(id);

/* An element with class cls (may be "") and text (may be undefined). */
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

/* Sizes as berthctl prints them: 1024-based, one decimal. */
function human(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}

function when(secs) {
  if (!secs) return "";
  return new Date(secs * 1000).toISOString().replace("T", " ").slice(0, 19) +
    " UTC";
}

/* GET url as JSON; an OCI error body becomes the thrown message. */
async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    /* the front server's own page: no JSON */
  }
  if (!res.ok) throw new Error(errorText(res, body));
  return body;
}

function errorText(res, body) {
  const e = body && body.errors && body.errors[0];
  return res.status + " " + (e ? e.code + ": " + (e.detail || e.message)
                                : res.statusText);
}

function setUser(u) {
  $("user").textContent = u ? "signed in as " + u : "";
}

/* --- the repositories --- */

let reposNext = null;
let searchSeq = 0;

async function loadRepos(append) {
  const q = $("search").value.trim();
  const seq = ++searchSeq;
  let url = API + "?n=50&q=" + encodeURIComponent(q);
  if (append && reposNext) url += "&last=" + encodeURIComponent(reposNext);
  let j;
  try {
    j = await getJSON(url);
  } catch (e) {
    showError(e.message);
    return;
  }
  if (seq !== searchSeq) return; /* a newer search answered first */
  showError("");
  setUser(j.user);
  const ul = $("repos");
  if (!append) ul.textContent = "";
  for (const r of j.repositories) {
    const li = el("li", "repo");
    li.dataset.repo = r.name;
    const a = el("a", "", r.name);
    a.href = "#/r/" + r.name;
    li.append(a);
    li.append(el("span", "meta",
                 r.tags + (r.tags === 1 ? " tag" : " tags") + " · " +
                 human(r.bytes)));
    ul.append(li);
  }
  reposNext = j.next;
  $("repos-more").hidden = !j.next;
  $("repos-empty").hidden = ul.children.length > 0;
}

/* --- the tags of a repository --- */

let repo = "";
let tagsNext = null;

function pullLine(cls, cmd) {
  const div = el("div", "pull");
  const code = el("code", cls, cmd);
  const b = el("button", "copy", "Copy");
  b.type = "button";
  b.addEventListener("click", () => copy(code, b));
  div.append(code, b);
  return div;
}

/* Copy the text of node; the clipboard API needs https, so else select. */
function copy(node, button) {
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(node.textContent).then(done, () => {});
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(node);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  try {
    if (document.execCommand("copy")) done();
  } catch (e) {
    /* selected: the user copies it */
  }
}

function chips(cls, items) {
  const ul = el("ul", "chips " + cls);
  for (const t of items) ul.append(el("li", "", t));
  return ul;
}

function row(dl, name, value) {
  dl.append(el("dt", "", name));
  const dd = el("dd");
  if (typeof value === "string") dd.textContent = value;
  else dd.append(value);
  dl.append(dd);
}

function platformText(p) {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function referrerText(r) {
  const t = r.artifactType || r.mediaType || "";
  return t + " " + r.digest.slice(0, 19);
}

function tagItem(name, t, mayDelete) {
  const li = el("li", "tag");
  li.dataset.tag = t.tag;
  const head = el("div", "tag-head");
  head.append(el("span", "tag-name", t.tag));
  head.append(el("span", "meta size", human(t.size)));
  head.append(el("span", "meta pushed", when(t.pushed)));
  if (mayDelete) {
    const b = el("button", "delete", "Delete");
    b.type = "button";
    b.addEventListener("click", () => deleteTag(name, t.tag));
    head.append(b);
  }
  li.append(head);
  const dl = el("dl");
  row(dl, "digest", el("span", "digest", t.digest));
  row(dl, "type", t.media_type);
  const plats = t.platforms
    .filter((p) => p.os && p.os !== "unknown")
    .map(platformText);
  if (plats.length) row(dl, "platforms", chips("platforms", plats));
  if (t.referrers.length) {
    const ul = el("ul", "chips referrers");
    for (const r of t.referrers) {
      const c = el("li", "", referrerText(r));
      c.title = r.digest;
      ul.append(c);
    }
    row(dl, "referrers", ul);
  }
  li.append(dl);
  const ref = location.host + "/" + name + ":" + t.tag;
  li.append(pullLine("pull-docker", "docker pull " + ref));
  li.append(pullLine("pull-podman", "podman pull " + ref));
  return li;
}

async function loadTags(append) {
  let url = API + "/" + repo + "/tags?n=50";
  if (append && tagsNext) url += "&last=" + encodeURIComponent(tagsNext);
  let j;
  try {
    j = await getJSON(url);
  } catch (e) {
    showError(e.message);
    return;
  }
  showError("");
  setUser(j.user);
  const ul = $("tags");
  if (!append) ul.textContent = "";
  for (const t of j.tags) ul.append(tagItem(j.name, t, j.delete));
  tagsNext = j.next;
  $("tags-more").hidden = !j.next;
  $("tags-empty").hidden = ul.children.length > 0;
}

async function deleteTag(name, tag) {
  if (!confirm("Delete tag " + tag + " of " + name + "?")) return;
  const res = await fetch(location.origin + "/v2/" + name + "/manifests/" +
                          encodeURIComponent(tag), { method: "DELETE" });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      /* no JSON */
    }
    showError("cannot delete " + tag + ": " + errorText(res, body));
    return;
  }
  loadTags(false);
}

/* --- views --- */

function route() {
  const m = location.hash.match(/^#\/r\/(.+)$/);
  $("repos-view").hidden = !!m;
  $("repo-view").hidden = !m;
  showError("");
  if (m) {
    repo = m[1];
    $("repo-name").textContent = repo;
    $("tags").textContent = "";
    loadTags(false);
  } else {
    loadRepos(false);
  }
}

let searchTimer = 0;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadRepos(false), 200);
});
$("repos-more").addEventListener("click", () => loadRepos(true));
$("tags-more").addEventListener("click", () => loadTags(true));
window.addEventListener("hashchange", route);
route();
