// The message catalogue: `Variant = "our-id", Java key, default severity,
// issue type, [argument names];`. The English templates are in
// `messages/en.tsv`; `message::tests` checks the two agree.
catalogue! {
    // ---- JSON reader
    /// The root object has no `resourceType`: not a FHIR resource.
    JsonNoResourceType = "json-no-resource-type", None, Fatal, Structure, [];
    /// `resourceType` is not a non-empty string.
    JsonResourceTypeInvalid = "json-resource-type-invalid", None, Error, Structure, [];
    JsonDuplicateProperty = "json-duplicate-property", None, Error, Structure, ["name"];
    JsonEmptyString = "json-empty-string", None, Error, Structure, [];
    JsonEmptyObject = "json-empty-object", Some("Object_must_have_some_content"), Error, Structure, [];
    JsonEmptyArray = "json-empty-array", Some("ARRAY_CANNOT_BE_EMPTY"), Error, Structure, [];
    /// A `null` property value.
    JsonNull = "json-null", None, Error, Structure, [];
    /// A `null` array item without a matching `_name` item.
    JsonNullItem = "json-null-item", None, Error, Structure, [];
    JsonNestedArray = "json-nested-array", None, Error, Structure, [];
    /// `name` and `_name` arrays of different lengths.
    JsonArrayAlignment = "json-array-alignment", None, Error, Structure, ["name", "count", "underscore_count"];
    /// `_name` is not an array while `name` is.
    JsonUnderscoreNotArray = "json-underscore-not-array", None, Error, Structure, ["name"];
    /// `_name` is neither an object nor an array of objects and nulls.
    JsonUnderscoreShape = "json-underscore-shape", None, Error, Structure, [];
    /// `_name` next to a complex (object) property.
    JsonUnderscoreComplex = "json-underscore-complex", None, Error, Structure, ["name"];
    JsonComment = "json-comment", None, Error, Invalid, [];
    JsonExtraCommaArray = "json-extra-comma-array", None, Error, Invalid, [];
    JsonExtraCommaObject = "json-extra-comma-object", None, Error, Invalid, [];
    JsonMissingComma = "json-missing-comma", None, Error, Invalid, [];
    JsonUnquotedName = "json-unquoted-name", None, Error, Structure, ["name"];
    JsonUnquotedValue = "json-unquoted-value", None, Error, Structure, ["name", "value"];

    // ---- XML reader
    /// The root element is not in the FHIR namespace.
    XmlRootNamespace = "xml-root-namespace", Some("Wrong_namespace__expected_"), Error, Invalid, ["namespace", "found"];
    /// The root element has no namespace.
    XmlRootNoNamespace = "xml-root-no-namespace", None, Error, Invalid, ["namespace"];
    XmlElementNamespace = "xml-element-namespace", None, Error, Structure, ["name", "namespace"];
    /// A narrative `div` outside the XHTML namespace.
    XmlDivNamespace = "xml-div-namespace", None, Error, Structure, ["namespace"];
    XmlUnknownAttribute = "xml-unknown-attribute", None, Error, Structure, ["name"];
    XmlResourceAttribute = "xml-resource-attribute", None, Error, Structure, ["name"];
    XmlEmptyValue = "xml-empty-value", Some("Type_Specific_Checks_DT_Primitive_NotEmpty"), Error, Structure, [];
    XmlText = "xml-text", Some("Text_should_not_be_present"), Error, Structure, [];
    XmlCdata = "xml-cdata", Some("CDATA_is_not_allowed"), Error, Structure, [];
    XmlEmptyElement = "xml-empty-element", Some("Element_must_have_some_content"), Error, Structure, ["name"];
    XmlUnexpectedResource = "xml-unexpected-resource", None, Error, Structure, ["name"];

    // ---- Reading input (fhirreg, fhirreg-cli)
    /// The input is neither JSON nor XML.
    UnknownFormat = "unknown-format", None, Fatal, Invalid, [];
    /// The input cannot be read as JSON or XML (the reader's explanation).
    ParseError = "parse-error", None, Fatal, Invalid, ["detail"];
    /// The input could not be read at all (file system, network).
    InputUnreadable = "input-unreadable", None, Fatal, Exception, ["detail"];

    // ---- Transitional: a message not yet in the catalogue.
    Legacy = "legacy", None, Error, Processing, ["text"];
}
