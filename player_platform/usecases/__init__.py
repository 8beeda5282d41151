"""Use cases that join several domains (above them all): the HTTP routes and the jobs call
these, and no domain imports them. A domain's own operations stay in its package."""
