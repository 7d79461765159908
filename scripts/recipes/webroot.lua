-- A recipe built on another recipe's tag (provision tools.lua first):
-- a static site served by busybox httpd.
return {
  base = "localhost/pocketdock/tools:1",
  tag = "localhost/pocketdock/webroot:1",
  workdir = "/srv/www",
  steps = {
    {write = "/srv/www/index.html", content = "<h1>hello from pocketdock</h1>\n"},
    {run = "chown -R 1000:1000 /srv/www"},
  },
}
