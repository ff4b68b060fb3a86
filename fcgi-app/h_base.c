#include "config.h"

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"

/* GET /v2/  (end-1): the API is here and this client may use it */
enum oci_err h_base_get(struct req *r)
{
    return resp_send(r, 200, "application/json", "{}", 2);
}
