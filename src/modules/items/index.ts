import { Elysia } from 'elysia'
import type { AuthGuard } from '../../http/auth'
import { ErrorModel, errorResponses, Ok, PageQuery } from '../../http/schema'
import { LIST, listHeaders, pageOf } from '../../paging'
import { type LiveCaller, requireSelfOrSuperuser } from '../../security/access'
import type { Caller } from '../../security/tokens'
import { type Idempotency, keyedRequest } from '../idempotency'
import { createdHeaders, IdempotencyHeaders } from '../idempotency/model'
import { itemNotFound } from './errors'
import { ItemModel, ItemParams, OwnerParams } from './model'
import type { ItemsRepository } from './repository'

const CAP = 'A user owns at most MAX_ITEMS_PER_USER items (default 10,000): past it, 409 `too_many_items`.'

// An item that is not the caller's answers 404, like one that does not exist: ids leak nothing.
export function itemsRoutes({
  items,
  idempotency,
  findCaller,
  auth,
}: {
  items: ItemsRepository
  idempotency: Idempotency
  /** The caller as the database sees it now: checked before a stored answer is given again. */
  findCaller: (caller: Caller) => Promise<LiveCaller>
  auth: AuthGuard['plugin']
}) {
  return new Elysia({ name: 'items', detail: { tags: ['items'] } })
    .use(auth)
    .model(ItemModel)
    .model(ErrorModel)
    .post(
      '/items/',
      async ({ caller, body, headers, set, status }) => {
        const { value: item, replayed } = await idempotency.create(
          keyedRequest(headers['idempotency-key'], caller.userId, 'POST /items/', body),
          (db) => items.on(db).createAs(caller, caller.userId, body),
          {
            answer: ItemModel.Item,
            authorize: async () => requireSelfOrSuperuser(await findCaller(caller), caller.userId),
          },
        )
        Object.assign(set.headers, createdHeaders(`/items/${item.id}`, replayed))
        return status(201, item)
      },
      {
        auth: 'user',
        headers: IdempotencyHeaders,
        body: 'ItemCreate',
        response: { 201: 'Item', ...errorResponses(400, 401, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'createItem',
          summary: 'Create an item',
          description: `Owned by you. ${CAP}`,
        },
      },
    )
    .post(
      '/users/:user_id/items/',
      async ({ caller, params, body, headers, set, status }) => {
        const { value: item, replayed } = await idempotency.create(
          keyedRequest(headers['idempotency-key'], caller.userId, `POST /users/${params.user_id}/items/`, body),
          (db) => items.on(db).createAs(caller, params.user_id, body),
          {
            answer: ItemModel.Item,
            authorize: async () => requireSelfOrSuperuser(await findCaller(caller), params.user_id),
          },
        )
        Object.assign(set.headers, createdHeaders(`/items/${item.id}`, replayed))
        return status(201, item)
      },
      {
        auth: 'user',
        headers: IdempotencyHeaders,
        params: OwnerParams,
        body: 'ItemCreate',
        response: { 201: 'Item', ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 503) },
        detail: {
          operationId: 'createItemForUser',
          summary: 'Create an item for a user',
          description: `For yourself, or for anyone as a superuser. ${CAP}`,
        },
      },
    )
    .get(
      '/users/:user_id/items/',
      async ({ caller, params, query, set }) => {
        const page = pageOf(query)
        const list = await items.listOwnedAs(caller, params.user_id, page)
        Object.assign(set.headers, listHeaders(`/users/${params.user_id}/items/`, page, list))
        return list.rows
      },
      {
        auth: 'user',
        params: OwnerParams,
        query: PageQuery,
        response: { 200: 'ItemList', ...errorResponses(401, 403, 404, 422, 503) },
        detail: {
          ...LIST,
          operationId: 'listUserItems',
          summary: "List a user's items",
          description:
            'All of them, ordered by id, where the user embeds only the first. Yours, or anyone’s for a superuser; `X-Total-Count` says how many there are.',
        },
      },
    )
    .get(
      '/items/',
      async ({ caller, query, set }) => {
        const page = pageOf(query)
        const list = await items.listAs(caller, page)
        Object.assign(set.headers, listHeaders('/items/', page, list))
        return list.rows
      },
      {
        auth: 'user',
        query: PageQuery,
        response: { 200: 'ItemList', ...errorResponses(401, 422, 503) },
        detail: {
          ...LIST,
          operationId: 'listItems',
          summary: 'List items',
          description: 'Yours (a superuser: everyone’s), ordered by id; `X-Total-Count` says how many there are.',
        },
      },
    )
    .get(
      '/items/:item_id',
      async ({ caller, params }) => {
        const item = await items.getAs(caller, params.item_id)
        if (!item) throw itemNotFound()
        return item
      },
      {
        auth: 'user',
        params: ItemParams,
        response: { 200: 'Item', ...errorResponses(401, 404, 422, 503) },
        detail: { operationId: 'readItem', summary: 'Read an item', description: 'Yours, or any for a superuser.' },
      },
    )
    .patch(
      '/items/:item_id',
      async ({ caller, params, body }) => {
        const item = await items.updateAs(caller, params.item_id, body)
        if (!item) throw itemNotFound()
        return item
      },
      {
        auth: 'user',
        params: ItemParams,
        body: 'ItemUpdate',
        response: { 200: 'Item', ...errorResponses(400, 401, 404, 413, 415, 422, 503) },
        detail: {
          operationId: 'updateItem',
          summary: 'Update an item',
          description: 'Yours, or any for a superuser. Only the fields sent change; `null` clears the description.',
        },
      },
    )
    .delete(
      '/items/:item_id',
      async ({ caller, params }) => {
        if (!(await items.deleteAs(caller, params.item_id))) throw itemNotFound()
        return { ok: true as const }
      },
      {
        auth: 'user',
        params: ItemParams,
        response: { 200: Ok, ...errorResponses(401, 404, 422, 503) },
        detail: { operationId: 'deleteItem', summary: 'Delete an item', description: 'Yours, or any for a superuser.' },
      },
    )
}
