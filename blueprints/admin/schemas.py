from marshmallow import Schema, fields, validate


class PageQuerySchema(Schema):
    limit = fields.Integer(strict=True, load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class AuditLogQuerySchema(PageQuerySchema):
    actor_id = fields.UUID(load_default=None)
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    resource_type = fields.String(load_default=None, validate=validate.Length(max=32))
    resource_id = fields.String(load_default=None, validate=validate.Length(max=64))


class AuditLogSchema(Schema):
    id = fields.UUID(required=True)
    actor_id = fields.UUID(allow_none=True)
    action = fields.String(required=True)
    resource_type = fields.String(required=True)
    resource_id = fields.String(allow_none=True)
    old_values = fields.Dict(allow_none=True)
    new_values = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class AuditLogPageSchema(Schema):
    items = fields.List(fields.Nested(AuditLogSchema), required=True)
    next_cursor = fields.String(allow_none=True)
