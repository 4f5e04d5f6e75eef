"""An object-oriented scheduler of tiny methods (the call-heavy shape):
a priority queue of jobs via heapq with __lt__, jobs stepping a state
machine through small methods, comprehensions and nested functions."""

import heapq


class Job:
    __slots__ = ("name", "priority", "remaining", "log")

    def __init__(self, name, priority, steps):
        self.name = name
        self.priority = priority
        self.remaining = steps
        self.log = []

    def __lt__(self, other):
        return (self.priority, self.name) < (other.priority, other.name)

    def done(self):
        return self.remaining <= 0

    def step(self):
        self.remaining -= 1
        self.record("step")
        return self.remaining

    def record(self, what):
        self.log.append(what)


class Scheduler:
    def __init__(self):
        self.queue = []
        self.finished = []
        self.ticks = 0

    def submit(self, job):
        heapq.heappush(self.queue, job)

    def tick(self):
        self.ticks += 1
        job = heapq.heappop(self.queue)
        job.step()
        if job.done():
            self.finish(job)
        else:
            job.priority += 1
            self.submit(job)

    def finish(self, job):
        self.finished.append(job.name)

    def run(self):
        while self.queue:
            self.tick()
        return self.ticks


def build(n):
    return [Job("job%02d" % i, i % 4, 1 + i % 6) for i in range(n)]


def main():
    s = Scheduler()
    for job in build(30):
        s.submit(job)
    ticks = s.run()
    squares = {k: v for k, v in ((i, i * i) for i in range(20))}
    # Nested comprehensions on separate lines: on one line both code objects
    # are labelled (file, line, "<listcomp>") and cProfile's create_stats
    # keeps only one of the two entries.
    nested = [
        [j for j in range(i)]
        for i in range(8)
    ]
    return ticks, s.finished[:5], len(squares), sum(map(len, nested))


if __name__ == "__main__":
    print(main())
