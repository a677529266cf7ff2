"""A plug-in module for tests: importing it registers a Gymnasium env (collected as `gym_plugin:
PluginArena-v0`, Gymnasium's module:EnvId form): Two-Rooms at 24 px through the Gymnasium API."""

import gymnasium

ENV_ID = "PluginArena-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="hjepa.envs.gym_env:ArenaEnv",
        kwargs={"sim_factory": "hjepa/TwoRooms-v0", "size": 24},
        max_episode_steps=200,
    )
