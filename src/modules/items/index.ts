import { Elysia } from 'elysia'
import { ErrorModel, errorResponses, Ok, PageQuery } from '../../http/schema'
import { pageOf } from '../../paging'
import { itemNotFound } from './errors'
import { ItemModel, ItemParams, OwnerParams } from './model'
import type { ItemsRepository } from './repository'

export function itemsRoutes({ items }: { items: ItemsRepository }) {
  return new Elysia({ name: 'items', detail: { tags: ['items'] } })
    .model(ItemModel)
    .model(ErrorModel)
    .post(
      '/users/:user_id/items/',
      async ({ params, body, set, status }) => {
        const item = await items.createItem(params.user_id, body)
        set.headers.location = `/items/${item.id}`
        return status(201, item)
      },
      {
        params: OwnerParams,
        body: 'ItemCreate',
        response: { 201: 'Item', ...errorResponses(400, 404, 413, 415, 422, 503) },
        detail: { operationId: 'createItemForUser', summary: 'Create an item for a user' },
      },
    )
    .get('/items/', ({ query }) => items.listItems(pageOf(query)), {
      query: PageQuery,
      response: { 200: 'ItemList', ...errorResponses(422, 503) },
      detail: { operationId: 'listItems', summary: 'List items', description: 'Ordered by id.' },
    })
    .get(
      '/items/:item_id',
      async ({ params }) => {
        const item = await items.getItem(params.item_id)
        if (!item) throw itemNotFound()
        return item
      },
      {
        params: ItemParams,
        response: { 200: 'Item', ...errorResponses(404, 422, 503) },
        detail: { operationId: 'readItem', summary: 'Read an item' },
      },
    )
    .patch(
      '/items/:item_id',
      async ({ params, body }) => {
        const item = await items.updateItem(params.item_id, body)
        if (!item) throw itemNotFound()
        return item
      },
      {
        params: ItemParams,
        body: 'ItemUpdate',
        response: { 200: 'Item', ...errorResponses(400, 404, 413, 415, 422, 503) },
        detail: {
          operationId: 'updateItem',
          summary: 'Update an item',
          description: 'Only the fields sent change; `null` clears the description.',
        },
      },
    )
    .delete(
      '/items/:item_id',
      async ({ params }) => {
        if (!(await items.deleteItem(params.item_id))) throw itemNotFound()
        return { ok: true as const }
      },
      {
        params: ItemParams,
        response: { 200: Ok, ...errorResponses(404, 422, 503) },
        detail: { operationId: 'deleteItem', summary: 'Delete an item' },
      },
    )
}
