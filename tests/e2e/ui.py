#!/usr/bin/env python3
"""The web catalog in headless Chromium, for tests/e2e/t3005-ui.sh.

  ui.py --base URL --tmp DIR --artifacts DIR

Logs in through the front server's basic auth as a person does first:
at the browser's own prompt, answered once (CDP Fetch.authRequired over
the page's DevTools socket), after which the page's data under /v2 must
come without another prompt. Then by sending an Authorization header
with every request of the page (CDP Network.setExtraHTTPHeaders), as
alice (all rights), bob (pull) and carol (pull team/*), on the
repositories t3005 pushed. Prints one line
per check; exits 1 if any failed. Screenshots in the artifacts
directory: ui.png (a repository's tags, on a desk), ui-phone.png (the
same on a phone), ui-repos.png (the repositories).
"""
import argparse
import base64
import json
import os
import sys
import threading
import time
import urllib.request

import websocket

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

failed = 0


def check(what, cond, detail=""):
    global failed
    print(("ok" if cond else "FAILED") + " - " + what +
          ("" if cond else " " + str(detail)))
    if not cond:
        failed += 1


def login(d, user):
    token = base64.b64encode(("%s:pw-%s" % (user, user)).encode()).decode()
    d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                      {"headers": {"Authorization": "Basic " + token}})


def prompt_login(d, base, user):
    """Answer the browser's login prompt once, as user; count prompts."""
    addr = d.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen("http://%s/json" % addr) as f:
        page = next(t for t in json.load(f) if t["type"] == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"],
                                     suppress_origin=True)
    prompts, ids = [], iter(range(1000, 10 ** 9))

    def send(method, params):
        ws.send(json.dumps({"id": next(ids), "method": method,
                            "params": params}))

    def pump():
        while True:
            try:
                m = json.loads(ws.recv())
            except Exception:  # closed: the check is over
                return
            p = m.get("params", {})
            if m.get("method") == "Fetch.requestPaused":
                send("Fetch.continueRequest", {"requestId": p["requestId"]})
            elif m.get("method") == "Fetch.authRequired":
                prompts.append(p["request"]["url"])
                answer = ({"response": "ProvideCredentials", "username": user,
                           "password": "pw-" + user} if len(prompts) == 1
                          else {"response": "CancelAuth"})
                send("Fetch.continueWithAuth", {
                    "requestId": p["requestId"],
                    "authChallengeResponse": answer})

    send("Fetch.enable", {"handleAuthRequests": True,
                          "patterns": [{"urlPattern": "*"}]})
    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        got = show_repos(d, base)
        check("a login at the browser's prompt shows the repositories",
              got == ["secret/db", "team/app"], got)
        check("after one prompt, for the page", len(prompts) == 1 and
              prompts[0].startswith(base + "/ui/"), prompts)
        send("Fetch.disable", {})
    finally:
        ws.close()
        t.join(5)


def wait(d, what, fn, timeout=10):
    try:
        return WebDriverWait(d, timeout).until(lambda _: fn())
    except TimeoutException:
        check(what, False, "(timed out)")
        return None


def texts(d, css):
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, css)]


def repos(d):
    return [e.get_attribute("data-repo")
            for e in d.find_elements(By.CSS_SELECTOR, "#repos li")]


def tag(d, name):
    found = d.find_elements(By.CSS_SELECTOR,
                            '#tags li[data-tag="%s"]' % name)
    return found[0] if found else None


def show_repos(d, base):
    d.get(base + "/ui/#")
    d.refresh()  # a new hash alone does not load the page again
    return wait(d, "the repositories are listed", lambda: repos(d))


def show_repo(d, base, name):
    d.get(base + "/ui/#/r/" + name)
    d.refresh()
    return wait(d, "the tags of " + name + " are shown",
                lambda: d.find_elements(By.CSS_SELECTOR, "#tags li"))


def no_overflow(d, what):
    # the sizes, and what sticks out past the window's right edge
    w = d.execute_script(
        "const out = [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className);"
        "return [document.documentElement.scrollWidth, innerWidth, out]")
    check(what + ": no horizontal scrolling", w[0] <= w[1], w)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--artifacts", required=True)
    a = p.parse_args()
    base = a.base.rstrip("/")
    host = base.split("://", 1)[1]

    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for f in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run",
              "--ignore-certificate-errors",
              "--user-data-dir=" + os.path.join(a.tmp, "chromium"),
              "--window-size=1100,900"):
        o.add_argument(f)
    o.set_capability("goog:loggingPrefs", {"performance": "ALL",
                                           "browser": "ALL"})
    svc = Service("/usr/bin/chromedriver",
                  log_path=os.path.join(a.tmp, "chromedriver.log"))
    d = webdriver.Chrome(options=o, service=svc)
    try:
        d.execute_cdp_cmd("Network.enable", {})
        run(d, base, host, a.artifacts)
        # every request the browser made went to the registry's origin
        urls = []
        for e in d.get_log("performance"):
            m = json.loads(e["message"])["message"]
            # the page's, not those of the browser's own new tab page
            if (m["method"] == "Network.requestWillBeSent" and
                    m["params"].get("documentURL", "").startswith(base)):
                urls.append(m["params"]["request"]["url"])
        away = [u for u in urls if not u.startswith(base + "/")]
        check("%d requests, all to %s" % (len(urls), base),
              urls and not away, away)
        errs = [e for e in d.get_log("browser") if e["level"] == "SEVERE"
                and "favicon.ico" not in e["message"]
                and "401" not in e["message"]]
        check("no errors in the console", not errs, errs)
    finally:
        d.quit()
    return 1 if failed else 0


def run(d, base, host, artifacts):
    # alice at the prompt, then alice (all rights) by header
    prompt_login(d, base, "alice")
    login(d, "alice")
    got = show_repos(d, base)
    check("alice sees both repositories", got == ["secret/db", "team/app"],
          got)
    check("with tags and storage",
          "2 tags" in d.find_element(By.CSS_SELECTOR,
                                     '#repos li[data-repo="team/app"]').text)
    check("and who she is", "alice" in d.find_element(By.ID, "user").text)
    d.save_screenshot(os.path.join(artifacts, "ui-repos.png"))
    d.find_element(By.ID, "search").send_keys("sec")
    wait(d, "the search box filters", lambda: repos(d) == ["secret/db"])
    d.find_element(By.CSS_SELECTOR, '#repos li[data-repo="secret/db"] a') \
        .click()
    wait(d, "a click opens the repository",
         lambda: tag(d, "1.0") is not None)

    show_repo(d, base, "team/app")
    v1 = wait(d, "tag v1", lambda: tag(d, "v1"))
    if v1 is None:
        return
    digest = v1.find_element(By.CSS_SELECTOR, ".digest").text
    check("its digest", digest.startswith("sha256:") and len(digest) == 71,
          digest)
    size = v1.find_element(By.CSS_SELECTOR, ".size").text
    check("its size", size.endswith("KiB"), size)
    check("its push time", "UTC" in v1.find_element(
        By.CSS_SELECTOR, ".pushed").text)
    check("its platforms",
          texts(d, '#tags li[data-tag="v1"] .platforms li') ==
          ["linux/amd64", "linux/arm64"],
          texts(d, '#tags li[data-tag="v1"] .platforms li'))
    refs = texts(d, '#tags li[data-tag="v1"] .referrers li')
    check("its SBOM", len(refs) == 1 and "application/spdx+json" in refs[0],
          refs)
    pull = v1.find_element(By.CSS_SELECTOR, ".pull-docker").text
    check("the docker pull command", pull ==
          "docker pull %s/team/app:v1" % host, pull)
    pull = v1.find_element(By.CSS_SELECTOR, ".pull-podman").text
    check("the podman pull command", pull ==
          "podman pull %s/team/app:v1" % host, pull)
    check("a delete button for alice", texts(
        d, '#tags li[data-tag="v2"] button.delete') == ["Delete"])
    d.save_screenshot(os.path.join(artifacts, "ui.png"))

    # the phone: narrow, and nothing wider than it
    d.set_window_size(390, 844)
    no_overflow(d, "the tags on a phone")
    d.save_screenshot(os.path.join(artifacts, "ui-phone.png"))
    show_repos(d, base)
    no_overflow(d, "the repositories on a phone")
    d.set_window_size(1100, 900)

    # delete v2 with its button, accepting the question
    show_repo(d, base, "team/app")
    b = wait(d, "v2's delete button", lambda: d.find_elements(
        By.CSS_SELECTOR, '#tags li[data-tag="v2"] button.delete'))
    if b:
        b[0].click()
        WebDriverWait(d, 5).until(lambda _: d.switch_to.alert)
        alert = d.switch_to.alert
        check("it asks first", "v2" in alert.text, alert.text)
        alert.accept()
        wait(d, "v2 is gone from the page", lambda: tag(d, "v2") is None)
        time.sleep(0.3)
        check("v1 stays", tag(d, "v1") is not None)
        check("no error shown",
              not d.find_element(By.ID, "error").is_displayed(),
              d.find_element(By.ID, "error").text)

    # bob: pull only: no delete button
    login(d, "bob")
    show_repo(d, base, "team/app")
    wait(d, "bob sees v1", lambda: tag(d, "v1"))
    check("bob has no delete button",
          not d.find_elements(By.CSS_SELECTOR, "button.delete"))

    # carol: team/* only
    login(d, "carol")
    got = show_repos(d, base)
    check("carol sees team/app only", got == ["team/app"], got)
    d.find_element(By.ID, "search").send_keys("secret")
    wait(d, "and finds no secret/db",
         lambda: d.find_element(By.ID, "repos-empty").is_displayed())


if __name__ == "__main__":
    sys.exit(main())
