// Pulls in the type augmentations of the Fastify plugins we register (route `websocket: true`,
// schema `summary`/`tags` for the OpenAPI document), for every file of the program.
import type {} from '@fastify/swagger';
import type {} from '@fastify/websocket';
