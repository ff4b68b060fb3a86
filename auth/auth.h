#ifndef BERTH_AUTH_AUTH_H
#define BERTH_AUTH_AUTH_H

#include <stddef.h>

/*
 * Who may do what. The front server authenticates (HTTP basic auth
 * against htpasswd, LDAP, ...) and passes the user as REMOTE_USER; berth
 * decides what that user, or an anonymous client, may do, from an access
 * file of rules:
 *
 *   # who           actions              repositories
 *   anonymous       pull                 public/[*]
 *   authenticated   pull                 *
 *   alice           push,delete          team-a/[*]
 *   ci              push                 *
 *   admin           all                  *
 *
 * (here "[*]" stands for a plain '*', which cannot follow '/' in C) *
 * who: a user name, "anonymous" (no REMOTE_USER), "authenticated" (any
 * user), or "*" (anyone). actions: pull, push (which includes pull),
 * delete, catalog (list the repositories: the catalog lists those the
 * user may pull, whatever rule allowed the listing), or all,
 * comma-separated.
 * repositories: a shell pattern (fnmatch(3); '*' also matches '/').
 * A request is allowed when any rule allows it. Without an access file
 * everything is allowed and the front server alone decides.
 *
 * Knows nothing of HTTP: fcgi-app/ turns AUTH_NEED_LOGIN into 401
 * UNAUTHORIZED with a Basic challenge, and AUTH_DENIED into 403 DENIED.
 */
enum auth_action {
    AUTH_PULL = 1 << 0,
    AUTH_PUSH = 1 << 1,
    AUTH_DELETE = 1 << 2,
    AUTH_CATALOG = 1 << 3,
    AUTH_LOGIN = 1 << 4 /* end-1: only says whether a login is wanted */
};

enum auth_result {
    AUTH_OK = 0,
    AUTH_NEED_LOGIN = -1, /* anonymous, and the rules want a user */
    AUTH_DENIED = -2      /* a user the rules do not allow */
};

struct auth_policy; /* opaque */

/*
 * Read the access file path. Return 0 and set *out (free it with
 * auth_policy_free(), which accepts NULL), or -1 with a one-line reason
 * in err (errlen bytes) naming the file and line.
 */
int auth_policy_load(const char *path, struct auth_policy **out, char *err,
                     size_t errlen);
void auth_policy_free(struct auth_policy *p);

/*
 * May user (NULL or "" when anonymous) do action to repo (NULL for
 * AUTH_CATALOG and AUTH_LOGIN)? A NULL policy allows everything.
 * AUTH_LOGIN asks end-1's question: an anonymous client is told to log
 * in whenever a policy exists, so that clients which only send
 * credentials after a 401 there (docker) do so; a user is let in.
 */
enum auth_result auth_check(const struct auth_policy *p, const char *user,
                            const char *repo, enum auth_action action);

#endif
