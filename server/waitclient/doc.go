// Package waitclient is the client side of GET /wait/<sha>: it re-issues
// long polls until a final answer, rides out dropped connections and gateway
// restarts (telling why a try had no answer), refuses a URL that cannot be
// syncgate's, waits on several clusters at once, or reads S3 result objects.
package waitclient
