"""User-style plug-ins: Gymnasium envs hjepa does not ship, made goal-reaching pixel envs.

Each module registers its env id and task set on import, so `examples.mountain_car_goal:
MountainCarGoal-v0` works as an env id anywhere (run from the repository root).
"""
